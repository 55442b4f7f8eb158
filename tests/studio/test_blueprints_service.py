"""The studio's blueprints adapter on a real database: the dialog offers only the namespaces the person edits."""

from __future__ import annotations

import pytest

from engine.core.errors import Conflict
from engine.identity.authz import LOCAL
from engine.identity.policy import Principal, Role
from engine.services import flows as flow_service
from studio.services import blueprints

FLOW = "id: seed\nnamespace: {namespace}\ntasks:\n  - {{id: hi, type: log, message: hi}}\n"
EDDY = Principal(name="eddy", memberships={"acme.sales": Role.EDITOR, "other": Role.VIEWER})


def test_the_dialog_offers_editable_namespaces_and_use_creates_the_flow(db):
    for namespace in ("acme.sales", "other.team", "hidden"):
        flow_service.save(db, LOCAL, FLOW.format(namespace=namespace))
    assert blueprints.editable_namespaces(EDDY) == ["acme.sales"]
    assert "hidden" in blueprints.editable_namespaces(LOCAL)
    assert [b.id for b in blueprints.gallery("Getting started")] == ["hello_world"]
    made = blueprints.use_blueprint(EDDY, "hello_world", "acme.sales", "greet")
    assert (made.namespace, made.id, made.status) == ("acme.sales", "greet", "created")
    with pytest.raises(Conflict):
        blueprints.use_blueprint(EDDY, "hello_world", "acme.sales", "greet")
