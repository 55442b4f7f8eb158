"""A flow as a graph of nodes and edges, drawn by the studio's canvas and the execution view."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from engine.core import dag
from engine.flows.model import Flow
from engine.tasks import Task, child_lists

ROOT = "$flow"


@dataclass
class Node:
    id: str
    type: str
    label: str
    kind: Literal["task", "group"]
    parent: str | None = None
    list: str | None = None  # which list of the parent holds it: tasks, then, else, a case key, errors...


@dataclass
class Edge:
    source: str
    target: str
    relation: Literal["sequence", "dependency", "branch", "error", "finally"]
    label: str | None = None


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodes": [asdict(n) for n in self.nodes],
            "edges": [asdict(e) for e in self.edges],
        }


def flow_graph(flow: Flow) -> Graph:
    """Nodes for every task (flowable tasks are groups holding their lists) and edges between them.

    Inside a list, edges follow the ordering rule (``sequence`` when implicit, ``dependency`` when
    from ``dependsOn``). A group links to the first tasks of each of its lists (``branch`` with the
    case label for switch/if, ``sequence`` otherwise); ``errors`` and ``finally`` lists hang from the
    last tasks of the main list through ``error``/``finally`` edges, inside a group of their own.
    """
    graph = Graph()
    _add_lists(
        graph,
        ROOT,
        None,
        [(("tasks", None, False), flow.tasks)],
        extra=[("errors", flow.errors), ("finally", flow.finally_)],
    )
    return graph


def _add_lists(graph: Graph, owner: str, parent: str | None, lists: list, extra: list) -> None:
    main_exits: list[str] = []
    for (name, label, parallel), tasks in lists:
        order = _add_list(graph, tasks, parent, label or name, parallel)
        if parent is not None:
            relation = "branch" if label is not None else "sequence"
            graph.edges += [Edge(parent, entry, relation, label) for entry in dag.entry_ids(order)]
        main_exits += dag.exit_ids(order)
    for name, tasks in extra:
        if not tasks:
            continue
        holder = f"{owner}${name}"
        graph.nodes.append(Node(holder, name, name, "group", parent, name))
        relation = "error" if name == "errors" else "finally"
        graph.edges += [Edge(source, holder, relation) for source in main_exits or ([parent] if parent else [])]
        order = _add_list(graph, tasks, holder, name, False)
        graph.edges += [Edge(holder, entry, "sequence") for entry in dag.entry_ids(order)]


def _add_list(graph: Graph, tasks: list[Task], parent: str | None, list_name: str, parallel: bool) -> dict:
    entries = [(t.id, t.depends_on) for t in tasks]
    order = dag.predecessors(entries, parallel=parallel)
    explicit = {task_id for task_id, depends_on in entries if depends_on is not None}
    for task in tasks:
        nested = [
            ((spec.name, label, spec.parallel), children)
            for spec, label, children in child_lists(task)
            if spec.relation in ("sequence", "branch")
        ]
        extra = [
            (spec.name, children) for spec, _, children in child_lists(task) if spec.relation in ("error", "finally")
        ]
        is_group = bool(type(task).list_fields)
        graph.nodes.append(
            Node(task.id, task.type, task.description or task.id, "group" if is_group else "task", parent, list_name)
        )
        if is_group:
            _add_lists(graph, task.id, task.id, nested, extra)
        for waited in order[task.id]:
            relation = "dependency" if task.id in explicit else "sequence"
            graph.edges.append(Edge(waited, task.id, relation))
    return order
