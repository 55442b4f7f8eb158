from pathlib import Path

from engine.flows.graph import flow_graph
from engine.flows.loader import load_flow_or_raise, read_source

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def _edges(graph) -> set[tuple]:
    return {(e.source, e.target, e.relation, e.label) for e in graph.edges}


def test_dag_with_depends_on_and_finally():
    graph = flow_graph(load_flow_or_raise(read_source(EXAMPLES / "acme" / "fan_out.yml")))
    assert {n.id: n.kind for n in graph.nodes} == {
        "start": "task",
        "orders": "task",
        "customers": "task",
        "join": "task",
        "$flow$finally": "group",
        "cleanup": "task",
    }
    assert _edges(graph) == {
        ("start", "orders", "dependency", None),
        ("start", "customers", "dependency", None),
        ("orders", "join", "dependency", None),
        ("customers", "join", "dependency", None),
        ("join", "$flow$finally", "finally", None),
        ("$flow$finally", "cleanup", "sequence", None),
    }


def test_groups_branches_and_case_labels():
    graph = flow_graph(load_flow_or_raise(read_source(EXAMPLES / "acme" / "routing.yml")))
    parents = {n.id: n.parent for n in graph.nodes}
    assert parents["full_load"] == "choose" and parents["per_region"] == "regions" and parents["approve"] == "check"
    assert {n.id for n in graph.nodes if n.kind == "group"} == {"choose", "regions", "check"}
    edges = _edges(graph)
    assert ("choose", "full_load", "branch", "full") in edges
    assert ("choose", "quick_load", "branch", "quick") in edges
    assert ("check", "approve", "branch", "then") in edges
    assert ("check", "skip_approval", "branch", "else") in edges
    assert ("regions", "per_region", "sequence", None) in edges
    assert ("choose", "regions", "sequence", None) in edges and ("regions", "check", "sequence", None) in edges


def test_errors_list_hangs_from_the_last_tasks():
    flow = load_flow_or_raise(read_source(EXAMPLES / "acme" / "daily_sales.yml"))
    edges = _edges(flow_graph(flow))
    assert ("teams", "$flow$errors", "error", None) in edges
    assert ("extract", "rates", "dependency", None) not in edges
    assert ("extract", "rates", "sequence", None) in edges
