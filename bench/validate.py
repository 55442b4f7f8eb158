"""How fast flows are checked: the examples, and a generated flow of 1,000 tasks (a big DAG).

Run: .venv/bin/python bench/validate.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from engine.flows.graph import flow_graph
from engine.flows.loader import load_flow, read_source

ROOT = Path(__file__).resolve().parent.parent


def big_flow(tasks: int) -> str:
    lines = ["id: big", "namespace: bench", "inputs:", "  - {id: day, type: DATE, required: false}", "tasks:"]
    for index in range(tasks):
        depends = f"[t{index - 1}, t{index // 2}]" if index > 1 else "[]"
        lines += [f"  - id: t{index}", "    type: log", f"    dependsOn: {depends}",
                  f"    message: \"step {index} of {{{{ inputs.day }}}}\""]  # fmt: skip
    return "\n".join(lines) + "\n"


def measure(label: str, text: str, repeat: int) -> None:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = load_flow(text, label)
        timings.append(time.perf_counter() - start)
    assert result.ok, result.problems
    start = time.perf_counter()
    graph = flow_graph(result.flow)
    graph_ms = (time.perf_counter() - start) * 1000
    print(f"{label:<28} {len(text):>8} bytes  load median {statistics.median(timings) * 1000:8.2f} ms  "
          f"graph {graph_ms:6.2f} ms ({len(graph.nodes)} nodes, {len(graph.edges)} edges)")  # fmt: skip


def main() -> None:
    for path in sorted((ROOT / "examples").rglob("*.yml")):
        measure(path.name, read_source(path), 50)
    measure("generated, 100 tasks", big_flow(100), 20)
    measure("generated, 1000 tasks", big_flow(1000), 5)


if __name__ == "__main__":
    main()
