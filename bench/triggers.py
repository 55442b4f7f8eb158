"""Realtime triggers: messages -> executions per second, and the latency from publish to execution created, per
broker, through a real ``lanner trigger-listener`` process. Prints one JSON line per broker.

Run: .venv/bin/python bench/triggers.py [--messages 2000] [--brokers redis,nats,rabbitmq,mqtt] [--database-url URL]

Each broker gets a fresh flow whose trigger listens to a new channel; the messages are published as fast as the
publisher goes, each carrying its publish time; figures come from the executions' creation times in the database.
Needs the brokers of tests/support/brokers.py (RabbitMQ, Mosquitto, NATS on this machine; Redis: LANNER_TEST_REDIS_URL,
default redis://127.0.0.1:6379/9, which is emptied). Figures, not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session, select  # noqa: E402

from engine.runtime.trigger_health import read_health  # noqa: E402
from engine.store.tables import Execution  # noqa: E402
from tests.support import brokers  # noqa: E402
from tests.support.cluster import Cluster  # noqa: E402
from tests.support.ids import unique  # noqa: E402

PACED, PACED_RATE = 100, 20  # messages, per second

MAKERS = {
    "redis": brokers.redis_broker,
    "nats": lambda cluster: brokers.nats_broker(cluster, cuttable=False),  # no proxy in the way
    "rabbitmq": brokers.rabbitmq_broker,
    "mqtt": brokers.mqtt_broker,
}


def _moment(value: dt.datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()  # SQLite gives naive UTC


def _created(cluster: Cluster, flow_id: str) -> list[Execution]:
    with Session(cluster.db) as session:
        return list(session.exec(select(Execution).where(Execution.flow_id == flow_id)))


def _wait_for(cluster: Cluster, flow_id: str, count: int) -> list[Execution]:
    deadline = time.monotonic() + 300
    while len(found := _created(cluster, flow_id)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def _latencies(executions: list[Execution]) -> list[float]:
    """Milliseconds from each message's publish (its body says when) to its execution's creation, sorted."""
    return sorted((_moment(e.created_at) - float(e.trigger["body"].split(":")[0])) * 1000 for e in executions)


def _at(sorted_values: list[float], share: float) -> float:
    return round(sorted_values[max(int(len(sorted_values) * share) - 1, 0)], 1) if sorted_values else float("nan")


def measure(cluster: Cluster, name: str, messages: int) -> dict:
    broker = MAKERS[name](cluster)
    flow_id, channel = unique(f"bench-{name}"), unique(f"bench_{name}").replace("-", "_")
    key = f"bench/{flow_id}/listen"
    broker.prepare(channel)
    cluster.deploy(
        f"id: {flow_id}\nnamespace: bench\ntasks:\n  - {{id: t, type: log, message: x}}\n"
        f"triggers:\n  - {broker.trigger(channel)}\n"
    )
    deadline = time.monotonic() + 30
    while not ((h := read_health(cluster.redis, [key]).get(key)) and h.connected):
        if time.monotonic() > deadline:
            raise SystemExit(f"{name}: the listener never connected ({h})")
        time.sleep(0.05)
    try:
        began = time.time()
        for first in range(0, messages, 100):
            broker.publish(
                channel, [f"{time.time():.6f}:{n}".encode() for n in range(first, min(first + 100, messages))]
            )
        published = time.time()
        found = _wait_for(cluster, flow_id, messages)
        last = max(_moment(e.created_at) for e in found)
        burst = _latencies(found)
        for n in range(PACED):  # one at a time: the latency of a message that does not queue behind others
            broker.publish(channel, [f"{time.time():.6f}:paced{n}".encode()])
            time.sleep(1 / PACED_RATE)
        paced = _latencies([e for e in _wait_for(cluster, flow_id, messages + PACED) if "paced" in e.trigger["body"]])
        return {
            "broker": name,
            "messages": messages,
            "executions": len(found),
            "publish_s": round(published - began, 3),
            "burst_executions_per_s": round(len(found) / (last - began), 1),
            "burst_latency_ms_p50": _at(burst, 0.5),
            "burst_latency_ms_max": _at(burst, 1.0),
            f"latency_ms_p50_at_{PACED_RATE}_per_s": _at(paced, 0.5),
            f"latency_ms_p95_at_{PACED_RATE}_per_s": _at(paced, 0.95),
        }
    finally:
        broker.cleanup(key, channel)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--brokers", default=",".join(MAKERS))
    parser.add_argument("--database-url")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lanner-triggers-"))
    redis_url = os.environ.get("LANNER_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    cluster = Cluster(home / "home", args.database_url or f"sqlite:///{home / 'lanner.db'}", redis_url)
    cluster.home.mkdir()
    try:
        cluster.start("listener", "trigger-listener")
        for name in args.brokers.split(","):
            print(json.dumps(measure(cluster, name, args.messages)), flush=True)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
