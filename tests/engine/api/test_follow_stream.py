"""Many Server-Sent-Events viewers of one execution share one follower in the API process (engine/runtime/live.py):
one subscription to the execution's announcements, whatever the number of viewers, and none once they left."""

from __future__ import annotations

import json
import threading
import time

import httpx

from engine.runtime.events import updates_channel

YAML = {"content-type": "application/x-yaml"}
TALK = (
    "id: chorus\nnamespace: api\ntasks:\n  - id: t\n    type: shell\n"
    "    commands: ['for i in $(seq 1 40); do echo line $i; sleep 0.1; done']\n"
)


def _subscribers(api, execution_id: str) -> int:
    return dict(api.cluster.redis.pubsub_numsub(updates_channel(execution_id)))[updates_channel(execution_id).encode()]


def test_concurrent_viewers_share_one_follower_and_each_sees_every_line_in_order(api):
    assert api.post("/flows", content=TALK, headers=YAML).is_success
    execution_id = api.post("/executions/trigger/api/chorus").json()["id"]
    streams: list[list[tuple[str, dict]]] = [[] for _ in range(5)]

    def view(index: int) -> None:
        with httpx.Client(base_url=str(api.base_url), timeout=60) as client:
            text = client.get(f"/executions/{execution_id}/follow").text
        for block in text.strip().split("\n\n"):
            fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
            streams[index].append((fields["event"], json.loads(fields["data"])))

    viewers = [threading.Thread(target=view, args=(i,)) for i in range(len(streams))]
    for viewer in viewers:
        viewer.start()
    time.sleep(1.5)
    assert any(viewer.is_alive() for viewer in viewers)
    assert _subscribers(api, execution_id) == 1  # five viewers, one follower
    for viewer in viewers:
        viewer.join(60)
    for events in streams:
        assert [data["message"] for kind, data in events if kind == "log"] == [f"line {i}" for i in range(1, 41)]
        assert events[-1] == ("end", {"state": "SUCCESS"})
    deadline = time.monotonic() + 5
    while _subscribers(api, execution_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _subscribers(api, execution_id) == 0  # the last viewer left: the follower stopped
