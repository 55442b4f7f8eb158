"""Flows parsed from stored revisions are cached per database, so two databases never share a parse."""

from __future__ import annotations

import pytest

from engine.flows.loader import ParsedFlows, parsed_flows_for
from engine.services.execution_start import flow_at
from engine.services.flow_deploy import deploy_flow
from engine.store.database import open_database, session_scope

FLOW = "id: same\nnamespace: acme\ndescription: {what}\ntasks:\n  - {{id: r, type: return, value: x}}\n"


def test_each_database_reads_its_own_revision_under_the_same_key(tmp_path):
    """Two tests (or two servers in one process) hold different texts as acme/same revision 1: no patching of a
    process-wide cache is needed for each to see its own."""
    first, second = (open_database(f"sqlite:///{tmp_path / name}.db") for name in ("first", "second"))
    try:
        for db, what in ((first, "one"), (second, "two")):
            with session_scope(db) as session:
                deploy_flow(session, FLOW.format(what=what))
        for db, what in ((first, "one"), (second, "two"), (first, "one")):
            with session_scope(db) as session:
                assert flow_at(session, "acme", "same", 1).description == what
        assert parsed_flows_for(first) is not parsed_flows_for(second)
    finally:
        first.dispose()
        second.dispose()


def test_a_revision_is_read_and_parsed_once():
    cache, reads = ParsedFlows(), []

    def source() -> str:
        reads.append(1)
        return FLOW.format(what="once")

    flows = [cache.get("acme", "same", 1, source) for _ in range(3)]
    assert reads == [1] and flows[0] is flows[1] is flows[2]


def test_a_full_cache_starts_afresh():
    cache = ParsedFlows(limit=2)
    for revision in (1, 2, 3):
        cache.get("acme", "same", revision, lambda: FLOW.format(what="x"))
    reads = []
    cache.get("acme", "same", 1, lambda: reads.append(1) or FLOW.format(what="x"))
    assert reads == [1]  # revision 1 was dropped when revision 3 came in


def test_an_injected_cache_is_used(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'one.db'}")
    try:
        with session_scope(db) as session:
            deploy_flow(session, FLOW.format(what="stored"))
            own = ParsedFlows()
            flow = flow_at(session, "acme", "same", 1, cache=own)
            assert own.get("acme", "same", 1, lambda: pytest.fail("parsed again")) is flow
    finally:
        db.dispose()
