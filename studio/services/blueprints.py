"""Blueprints for the studio: the gallery, one blueprint's YAML, the namespaces a person may create a flow in, and
a flow made from a blueprint, through ``engine.services.blueprints`` (which decides access)."""

from __future__ import annotations

from engine.identity.policy import Action, Principal, can
from engine.services import blueprints as blueprint_service
from engine.services.connections import database
from engine.services.views import BlueprintView, DeployView
from studio.services.access import reachable_namespaces


def gallery(category: str | None = None, text: str = "") -> list[BlueprintView]:
    return blueprint_service.search(category, text)


def blueprint(blueprint_id: str) -> BlueprintView:
    """One blueprint with its YAML; ``NotFound`` (a ``LookupError``) for an unknown id."""
    return blueprint_service.get(blueprint_id)


def editable_namespaces(principal: Principal) -> list[str]:
    """The existing namespaces where ``principal`` may create a flow, sorted: what the "use" dialog offers."""
    return [name for name in reachable_namespaces(principal) if can(principal, Action.EDIT_FLOW, name)]


def use_blueprint(principal: Principal, blueprint_id: str, namespace: str, flow_id: str) -> DeployView:
    """The flow made from the blueprint; ``Conflict``/``InvalidInput`` (``ValueError``s) or ``FlowInvalid`` when
    refused, ``Forbidden`` without the editor role."""
    return blueprint_service.use(database(), principal, blueprint_id, namespace, flow_id)
