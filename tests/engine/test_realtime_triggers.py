"""Realtime triggers on real brokers, run by real ``lanner trigger-listener`` processes: no message lost and none
started twice while listeners are SIGKILLed and the broker connection is cut; a disabled or deleted flow stops
consuming within seconds; a flow deployed later is picked up without a restart."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest
from sqlmodel import Session, func, select

from engine.identity.policy import Principal
from engine.runtime.trigger_health import TriggerHealth, read_health
from engine.services import flows as flow_service
from engine.store import triggers as trigger_store
from engine.store.tables import Execution
from tests.support.brokers import (
    mqtt_broker,
    nats_broker,
    needs_mqtt,
    needs_nats,
    needs_rabbitmq,
    rabbitmq_broker,
    redis_broker,
)
from tests.support.cluster import Cluster
from tests.support.ids import unique
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
MESSAGES = 1000
ADMIN = Principal("root", is_admin=True)


BROKERS = {
    "redis": redis_broker,
    "nats": pytest.param(nats_broker, marks=needs_nats),
    "rabbitmq": pytest.param(rabbitmq_broker, marks=needs_rabbitmq),
    "mqtt": pytest.param(mqtt_broker, marks=needs_mqtt),
}


def _count(cluster: Cluster, flow_id: str) -> int:
    with Session(cluster.db) as session:
        return session.exec(select(func.count()).select_from(Execution).where(Execution.flow_id == flow_id)).one()


def _bodies(cluster: Cluster, flow_id: str) -> list[str]:
    with Session(cluster.db) as session:
        return [e.trigger["body"] for e in session.exec(select(Execution).where(Execution.flow_id == flow_id))]


def _health(cluster: Cluster, key: str) -> TriggerHealth | None:
    return read_health(cluster.redis, [key]).get(key)


def _flow(flow_id: str, trigger: str) -> str:
    return f"id: {flow_id}\nnamespace: events\ntasks:\n  - {{id: t, type: log, message: x}}\ntriggers:\n  - {trigger}\n"


@pytest.mark.parametrize("make_broker", BROKERS.values(), ids=BROKERS.keys())
def test_a_thousand_messages_make_a_thousand_executions_through_kills_and_a_cut(cluster_factory, make_broker, request):
    cluster = cluster_factory()
    broker = make_broker(cluster)
    listeners = [cluster.start("listener-a", "trigger-listener"), cluster.start("listener-b", "trigger-listener")]
    flow_id, channel = unique("orders"), unique("orders").replace("-", "_")
    key = f"events/{flow_id}/listen"
    request.addfinalizer(lambda: broker.cleanup(key, channel))
    broker.prepare(channel)
    cluster.deploy(_flow(flow_id, broker.trigger(channel)))
    wait_until(lambda: (h := _health(cluster, key)) and h.connected, 30, "no listener connected")

    def publish_all() -> None:  # 50 at a time, 10 times a second: the listeners are killed mid-stream
        for first in range(0, MESSAGES, 50):
            broker.publish(channel, [str(n).encode() for n in range(first, first + 50)])
            time.sleep(0.1)

    publisher = threading.Thread(target=publish_all)
    publisher.start()
    killed = 0
    for at in (200, 600):  # the listener holding the trigger dies with messages in hand, twice
        wait_until(lambda at=at: _count(cluster, flow_id) >= at, 60, f"fewer than {at} executions")
        holder = int(_health(cluster, key).consumer.split(":")[1])
        name = next(n for n, p in cluster.processes.items() if p.pid == holder)
        os.kill(holder, signal.SIGKILL)
        cluster.processes.pop(name).wait(10)
        listeners.append(cluster.start(f"{name}-again", "trigger-listener"))
        killed += 1
        if at == 200 and broker.cut is not None:
            wait_until(lambda: _count(cluster, flow_id) >= 400, 60, "fewer than 400 executions")
            assert broker.cut(key, channel) >= 1, "no listener connection to cut"
    publisher.join()
    wait_until(lambda: _count(cluster, flow_id) >= MESSAGES, 90, "messages were lost")
    time.sleep(3)  # what a dead listener held is redelivered (claimIdle/ackWait): recognised, not started again
    bodies = _bodies(cluster, flow_id)
    assert set(bodies) == {str(n) for n in range(MESSAGES)}, "a message was lost"
    if broker.exact:
        assert len(bodies) == MESSAGES, "a redelivered message started a second execution"
    else:  # no message id: what a killed listener had started but not acknowledged is started again
        print(f"{len(bodies) - MESSAGES} messages started twice (the broker gives no id to recognise them)")
    health = _health(cluster, key)
    # Counted in Redis by whichever listener ran the trigger (a killed one may not have counted its last message).
    assert killed == 2 and health.received >= MESSAGES
    print(f"received {health.received}, started {health.started}, duplicates recognised {health.duplicates}")


@pytest.mark.parametrize("make_broker", BROKERS.values(), ids=BROKERS.keys())
def test_disabled_or_deleted_flows_stop_consuming_and_new_ones_start_without_a_restart(
    cluster_factory, make_broker, request
):
    cluster = cluster_factory()
    broker = make_broker(cluster)
    cluster.start("listener", "trigger-listener")
    flow_id, channel = unique("late"), unique("late").replace("-", "_")
    key = f"events/{flow_id}/listen"
    request.addfinalizer(lambda: broker.cleanup(key, channel))
    time.sleep(1)  # the listener runs before the flow exists
    broker.prepare(channel)
    cluster.deploy(_flow(flow_id, broker.trigger(channel)))
    wait_until(lambda: (h := _health(cluster, key)) and h.connected, 10, "a flow deployed later was not picked up")
    broker.publish(channel, [b"1"])
    wait_until(lambda: _count(cluster, flow_id) == 1, 10, "the message started nothing")

    with Session(cluster.db) as session:
        state = trigger_store.ensure_trigger_state(session, "events", flow_id, "listen", {})
        state.enabled = False
        session.add(state)
        session.commit()
    wait_until(lambda: not _health(cluster, key).connected, 5, "a disabled trigger kept its connection")
    broker.publish(channel, [b"2"])
    time.sleep(2)
    assert _count(cluster, flow_id) == 1, "a disabled trigger started the flow"

    with Session(cluster.db) as session:
        state = trigger_store.get_trigger_state(session, "events", flow_id, "listen")
        state.enabled = True
        session.add(state)
        session.commit()
    wait_until(lambda: _count(cluster, flow_id) == 2, 10, "the message sent while disabled was lost")

    flow_service.delete(cluster.db, ADMIN, "events", flow_id)
    wait_until(lambda: not _health(cluster, key).connected, 5, "a deleted flow's trigger kept its connection")
    broker.publish(channel, [b"3"])
    time.sleep(2)
    assert _count(cluster, flow_id) == 2


def test_a_busy_flow_leaves_messages_in_the_broker_instead_of_queueing_executions(cluster_factory):
    cluster = cluster_factory()
    broker = redis_broker(cluster)
    cluster.start_executor()
    cluster.start_workers(1)
    cluster.start("listener", "trigger-listener")
    flow_id, channel = unique("busy"), unique("busy")
    cluster.deploy(
        f"id: {flow_id}\nnamespace: events\nconcurrency: {{limit: 1}}\n"
        "tasks:\n  - {id: slow, type: shell, commands: ['sleep 0.3']}\n"
        f"triggers:\n  - {{id: listen, type: redis.realtime, url: '{cluster.redis_url}', key: {channel}, maxQueued: 3}}\n"
    )
    key = f"events/{flow_id}/listen"
    wait_until(lambda: (h := _health(cluster, key)) and h.connected, 30, "no listener connected")
    broker.publish(channel, [str(n).encode() for n in range(12)])
    most_waiting, deadline = 0, time.monotonic() + 90
    while time.monotonic() < deadline:
        with Session(cluster.db) as session:
            states = [e.state for e in session.exec(select(Execution).where(Execution.flow_id == flow_id))]
        most_waiting = max(most_waiting, sum(s in ("CREATED", "QUEUED") for s in states))
        if len(states) == 12 and all(s == "SUCCESS" for s in states):
            break
        time.sleep(0.05)
    assert len(states) == 12 and set(states) == {"SUCCESS"}, states
    assert 1 <= most_waiting <= 3, f"{most_waiting} executions waited at once; maxQueued is 3"


def test_a_batch_trigger_starts_one_execution_per_batch_with_its_messages_in_a_file(cluster_factory):
    from engine.storage.address import Address
    from engine.storage.local import LocalStorage

    cluster = cluster_factory()
    broker = redis_broker(cluster)
    cluster.start("listener", "trigger-listener")
    flow_id, channel = unique("batch"), unique("batch")
    cluster.deploy(
        _flow(
            flow_id,
            f"{{id: listen, type: redis.realtime, url: '{cluster.redis_url}', key: {channel}, "
            "maxRecords: 10, maxDuration: 2s}",
        )
    )
    key = f"events/{flow_id}/listen"
    wait_until(lambda: (h := _health(cluster, key)) and h.connected, 30, "no listener connected")
    broker.publish(channel, [str(n).encode() for n in range(25)])
    wait_until(lambda: _count(cluster, flow_id) == 3, 20, "25 messages did not make three batches")
    with Session(cluster.db) as session:
        batches = [e.trigger for e in session.exec(select(Execution).where(Execution.flow_id == flow_id))]
    assert sorted(b["count"] for b in batches) == [5, 10, 10]
    storage, bodies = LocalStorage(cluster.home / "storage"), []
    for batch in batches:
        lines = storage.read(Address.parse(batch["uri"])).decode().splitlines()
        assert len(lines) == batch["count"]
        bodies += [json.loads(line)["body"] for line in lines]
    assert sorted(bodies, key=int) == [str(n) for n in range(25)]
