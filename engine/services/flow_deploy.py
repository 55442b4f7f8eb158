"""Deploying a flow from its YAML text: parsed and checked by the flow language, then saved by the store."""

from __future__ import annotations

from sqlmodel import Session

from engine.flows.loader import load_flow_or_raise
from engine.store.flows import DeployResult, save_flow


def deploy_flow(session: Session, source: str, *, author: str | None = None, filename: str = "<flow>") -> DeployResult:
    """Save ``source`` as the flow's newest revision; raises ``FlowInvalid`` for a flow with problems."""
    flow = load_flow_or_raise(source, filename)
    return save_flow(session, flow, source, author=author)
