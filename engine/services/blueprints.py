"""Blueprints: the gallery of ready flows (list, read one) and a new flow made from one (``use``).

Reading the gallery needs no access: blueprints are shipped with Lanner, not anybody's data. Using one creates a
flow as ``flows.create`` does: ``EDIT_FLOW`` on the chosen namespace, a ``Conflict`` when the flow exists, and the
text deployed through the one deploy path. Only the flow's ``id`` and ``namespace`` are rewritten (by
``yaml_edit``), so the blueprint's comments and layout reach the new flow unchanged.
"""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Engine

from engine.blueprints import Blueprint, catalog
from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.flows.spec import FlowId, NamespaceName
from engine.flows.yaml_edit import set_flow_property
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.services.flow_deploy import deploy_flow
from engine.services.views import BlueprintView, DeployView
from engine.store import flows as store
from engine.store.database import session_scope

_FLOW_ID = TypeAdapter(FlowId)
_NAMESPACE = TypeAdapter(NamespaceName)


def _view(blueprint: Blueprint, *, with_source: bool = False) -> BlueprintView:
    return BlueprintView(
        id=blueprint.id,
        title=blueprint.title,
        summary=blueprint.summary,
        category=blueprint.category,
        tags=list(blueprint.tags),
        secrets=list(blueprint.secrets),
        task_types=list(blueprint.task_types),
        source=blueprint.source if with_source else None,
    )


def search(category: str | None = None, text: str = "") -> list[BlueprintView]:
    """The blueprints of ``category`` (any when None) whose title, summary, tags or task types contain ``text``."""
    needle = text.strip().lower()
    return [
        _view(b)
        for b in catalog()
        if (not category or b.category == category)
        and (not needle or needle in " ".join((b.id, b.title, b.summary, *b.tags, *b.task_types)).lower())
    ]


def get(blueprint_id: str) -> BlueprintView:
    """One blueprint with its YAML source; ``NotFound`` for an unknown id."""
    for blueprint in catalog():
        if blueprint.id == blueprint_id:
            return _view(blueprint, with_source=True)
    raise NotFound(f"no blueprint {blueprint_id}")


def _checked(adapter: TypeAdapter, value: str, what: str) -> str:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise InvalidInput(f"'{value}' is not a valid {what}: {exc.errors()[0]['msg']}") from None


def instantiate(blueprint_id: str, namespace: str, flow_id: str) -> str:
    """The blueprint's text declaring ``namespace``/``flow_id`` instead of its own (comments and layout kept);
    ``InvalidInput`` for a bad name. Nothing is saved: ``lanner blueprint use --output`` writes it to a file."""
    namespace = _checked(_NAMESPACE, namespace, "namespace (lowercase words separated by dots)")
    flow_id = _checked(_FLOW_ID, flow_id, "flow id")
    text = set_flow_property(get(blueprint_id).source or "", "id", flow_id)
    return set_flow_property(text, "namespace", namespace)


def use(
    db: Engine, principal: Principal, blueprint_id: str, namespace: str, flow_id: str, *, author: str | None = None
) -> DeployView:
    """Create ``namespace``/``flow_id`` from the blueprint, as revision 1 by ``principal``.

    ``NotFound`` for an unknown blueprint, ``InvalidInput`` for a bad name (or a blueprint this installation cannot
    run: ``FlowInvalid`` lists its problems), ``Conflict`` when the flow exists, ``Forbidden`` without the editor
    role on the namespace.
    """
    text = instantiate(blueprint_id, namespace, flow_id)
    authz.require_flow(principal, Action.EDIT_FLOW, namespace, flow_id)
    with session_scope(db) as session:
        try:
            store.get_flow(session, namespace, flow_id)
        except store.FlowNotFound:
            who = author or principal.name
            return DeployView.of(deploy_flow(session, text, author=who, filename=f"{blueprint_id}.yml"))
    raise Conflict(f"{namespace}/{flow_id} already exists")
