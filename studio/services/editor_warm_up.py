"""What the editor's first open would otherwise build while someone waits for it: every task type's JSON schema
(the palette, the node titles and the completions read them), the flow model's validators, and the first pass
through the canvas, form and completion paths (the modules they load on first use). The studio does it once, in
the background, when it starts (``studio/studio.py``); on a loaded machine it took seconds of the first open."""

from __future__ import annotations

import gc

from engine.flows import yaml_edit
from studio.services.completions import completions, expression_names
from studio.services.editing import graph_of, palette
from studio.services.editor_forms import flow_form, task_form

SAMPLE = """id: warm_up
namespace: warm
tasks:
  - id: hello
    type: log
    message: "{{ flow.id }}"
"""


def warm_up() -> int:
    """Build it all once; returns how many task types the palette offers."""
    offered = palette()
    completions()
    text = yaml_edit.insert_task(SAMPLE, {"id": "after", "type": "log", "message": "{{ outputs.hello }}"})
    for flow in (SAMPLE, text):
        graph_of(flow)
        flow_form(flow)
        task_form(flow, "hello")
        expression_names(flow)
    return len(offered)


# Collections of the youngest objects once per 10,000 new ones, not Python's 700.
GC_YOUNG_THRESHOLD = 10_000


def collect_less() -> None:
    """Once warmed up, the studio's process holds ~0.5 M objects for good (modules, the app, its states' classes,
    the task schemas): frozen, full collections skip them. Reading a 1,000-task flow makes ~90,000 objects and the
    parse cache keeps the last few texts' trees: with the default thresholds a full collection ran during nearly
    every canvas edit, 100-600 ms each (most of the server's time on the drop path); with these, about one edit in
    ten pays it, and a cheaper one. Frozen objects are still freed by their reference counts."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, oldest)
