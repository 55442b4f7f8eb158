"""The live, enabled flows that declare triggers of one kind, read again only when a flow changed: the flow
triggers (engine/runtime/flow_triggers.py) and the trigger listener (trigger_listener.py) ask it on every end and
every second, and most flows declare none."""

from __future__ import annotations

import logging
from typing import Generic, TypeVar

from sqlmodel import Session

from engine.flows.model import Flow
from engine.services.execution_start import flow_at
from engine.store import triggers as trigger_store

log = logging.getLogger("lanner.triggers")
Kind = TypeVar("Kind")


class TriggerIndex(Generic[Kind]):
    def __init__(self, kind: type[Kind]) -> None:
        self.kind = kind
        self._version: object = None
        self._found: list[tuple[str, str, int, Flow, list[Kind]]] = []

    def flows(self, session: Session) -> list[tuple[str, str, int, Flow, list[Kind]]]:
        """(namespace, flow id, revision, flow, its triggers of the kind not disabled in the YAML) of each flow that
        declares one; a stored flow that can no longer be read (a task type gone) is skipped and logged."""
        version = trigger_store.flows_version(session)
        if version != self._version:
            found = []
            for namespace, flow_id, revision, source in trigger_store.live_flow_sources(session, enabled_only=True):
                try:
                    flow = flow_at(session, namespace, flow_id, revision, source)
                except Exception:  # the other flows' triggers still fire
                    log.exception("flow %s/%s could not be read", namespace, flow_id)
                    continue
                triggers = [t for t in flow.triggers if isinstance(t, self.kind) and not t.disabled]
                if triggers:
                    found.append((namespace, flow_id, revision, flow, triggers))
            self._version, self._found = version, found
        return self._found
