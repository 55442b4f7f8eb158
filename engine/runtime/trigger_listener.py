"""``lanner trigger-listener``: runs the realtime triggers of the deployed flows (also inside ``lanner server``).

Several listeners share the work: each trigger is run by the one listener holding its lease in Redis (renewed
every second, lost five seconds after its holder dies), and a listener holds no more than its share (triggers /
listeners alive, from their heartbeats), giving back the rest. Every second a listener reads what flows want: a
flow deployed, changed, disabled or deleted, or a trigger disabled, starts, restarts or stops its consumer there
and then, without a restart of anything.
"""

from __future__ import annotations

import logging
import math
import os
import re
import socket
import threading
import uuid
import zlib

import redis
from sqlalchemy import Engine
from sqlmodel import Session

from engine.flows.triggers import ListenedTrigger
from engine.runtime import cluster, events
from engine.runtime.cluster import ProcessKind
from engine.runtime.realtime import RECEIVE_SECONDS, Consumer, Listening
from engine.runtime.trigger_index import TriggerIndex
from engine.store import triggers as trigger_store
from engine.store.database import session_scope

log = logging.getLogger("lanner.triggers")
LEASE_PREFIX = "lanner:trigger-lease:"
REFRESH_SECONDS = 1.0
LEASE_SECONDS = 5.0
STOP_SECONDS = RECEIVE_SECONDS + 10.0  # a consumer ends the message in hand (its execution, its acknowledgement)

# Lua: renew a lease only while this listener still holds it (released by events.RELEASE_IF_HELD).
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"


def subscription_name(key: str) -> str:
    """A name for the trigger's subscription that every broker accepts and that stays the same across listeners
    (a durable consumer, a consumer group, an MQTT client id): what one listener left, the next one continues."""
    readable = re.sub(r"[^A-Za-z0-9_-]", "_", key)[:40]
    return f"lanner_{readable}_{zlib.crc32(key.encode()):08x}"


class RealtimeIndex:
    """The enabled realtime and polling triggers of live flows, by ``namespace/flow/trigger``."""

    def __init__(self) -> None:
        self._flows = TriggerIndex(ListenedTrigger)

    def wanted(self, session: Session) -> dict[str, Listening]:
        disabled = trigger_store.disabled_triggers(session)
        found = {}
        for namespace, flow_id, revision, _, triggers in self._flows.flows(session):
            for trigger in triggers:
                listening = Listening(namespace, flow_id, revision, trigger)
                if listening.key not in disabled:
                    found[listening.key] = listening
        return found


class TriggerListener:
    def __init__(self, db: Engine, r: redis.Redis) -> None:
        self.db, self.r = db, r
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.index = RealtimeIndex()
        self.consumers: dict[str, Consumer] = {}
        self._renew = r.register_script(_RENEW)
        self._release = r.register_script(events.RELEASE_IF_HELD)

    def tick(self) -> None:
        with session_scope(self.db) as session:
            wanted = self.index.wanted(session)
        for key, consumer in list(self.consumers.items()):
            if wanted.get(key) != consumer.listening:
                self._stop(key)  # gone, disabled or changed: a changed one starts again below, as it is now
            elif not self._renew(keys=[LEASE_PREFIX + key], args=[self.id, int(LEASE_SECONDS * 1000)]):
                log.warning("lost the lease of trigger %s; another listener runs it", key)
                self._stop(key, release=False)
        listeners = sum(1 for p in cluster.alive(self.r) if p.kind == ProcessKind.TRIGGER_LISTENER)
        share = math.ceil(len(wanted) / max(listeners, 1))
        for key in list(self.consumers)[share:]:  # more than my share: give some back for others to take
            self._stop(key)
        for key in sorted(wanted, key=lambda k: zlib.crc32(f"{self.id}{k}".encode())):  # listeners start apart
            if len(self.consumers) >= share:
                break
            if key not in self.consumers and self.r.set(LEASE_PREFIX + key, self.id, nx=True,
                                                        px=int(LEASE_SECONDS * 1000)):  # fmt: skip
                consumer = Consumer(self.db, self.r, wanted[key], self.id, subscription_name(key))
                self.consumers[key] = consumer
                consumer.start()

    def _stop(self, key: str, *, release: bool = True) -> None:
        consumer = self.consumers.pop(key)
        consumer.stop.set()
        consumer.join(STOP_SECONDS)
        if release:
            self._release(keys=[LEASE_PREFIX + key], args=[self.id])

    def run(self, stop: threading.Event) -> None:
        with cluster.present(self.r, ProcessKind.TRIGGER_LISTENER):
            try:
                while not stop.is_set():
                    try:
                        self.tick()
                    except Exception:  # the database or Redis away for a moment: the consumers go on
                        log.exception("trigger listener tick failed")
                    stop.wait(REFRESH_SECONDS)
            finally:
                for consumer in self.consumers.values():
                    consumer.stop.set()
                for key in list(self.consumers):
                    self._stop(key)
