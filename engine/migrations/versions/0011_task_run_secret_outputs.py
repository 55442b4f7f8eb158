"""task run secret outputs: a pause's SECRET onResume answers kept encrypted

A pause's ``SECRET`` ``onResume`` answers are kept encrypted in the task run's ``secret_outputs``
(engine/workspace/secrets.py) and shown as ``****`` in its ``outputs``. Answers given before this migration were stored
in plain text: each one is moved into ``secret_outputs`` here, under the installation's key. So are the SECRET
inputs of a backfill started before backfills sealed them (kept in plain text in the trigger's state).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from typing import Any

import sqlalchemy as sa
import yaml
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_revisions = sa.table(
    "flow_revision", sa.column("namespace"), sa.column("flow_id"), sa.column("revision"), sa.column("source")
)
_flows = sa.table("flow", sa.column("namespace"), sa.column("flow_id"), sa.column("revision"))
_executions = sa.table(
    "execution", sa.column("id"), sa.column("namespace"), sa.column("flow_id"), sa.column("flow_revision")
)
_runs = sa.table(
    "task_run",
    sa.column("id"),
    sa.column("execution_id"),
    sa.column("task_id"),
    sa.column("outputs", sa.JSON),
    sa.column("secret_outputs", sa.JSON),
)
_states = sa.table(
    "trigger_state", sa.column("namespace"), sa.column("flow_id"), sa.column("trigger_id"), sa.column("data", sa.JSON)
)


def _secret_ids(declared: Any) -> list[str]:
    if not isinstance(declared, list):
        return []
    return [
        i["id"] for i in declared if isinstance(i, dict) and i.get("type") == "SECRET" and isinstance(i.get("id"), str)
    ]


def _pauses_with_secrets(node: Any, found: dict[str, list[str]]) -> dict[str, list[str]]:
    """Pause task id -> its SECRET onResume ids, wherever the pause is nested."""
    if isinstance(node, dict):
        if node.get("type") == "pause" and isinstance(node.get("id"), str) and _secret_ids(node.get("onResume")):
            found[node["id"]] = _secret_ids(node.get("onResume"))
        for value in node.values():
            _pauses_with_secrets(value, found)
    elif isinstance(node, list):
        for value in node:
            _pauses_with_secrets(value, found)
    return found


def _parse(source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def upgrade() -> None:
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_outputs", sa.JSON(), nullable=True))
    connection = op.get_bind()
    revisions = connection.execute(
        sa.select(_revisions).where(_revisions.c.source.like("%SECRET%"))  # a cheap filter before parsing
    )
    for namespace, flow_id, flow_revision, source in revisions.all():
        pauses = _pauses_with_secrets(_parse(source).get("tasks"), {})
        if pauses:
            _seal_old_answers(connection, namespace, flow_id, flow_revision, pauses)
    current = connection.execute(
        sa.select(_flows.c.namespace, _flows.c.flow_id, _revisions.c.source).join(
            _revisions,
            sa.and_(
                _revisions.c.namespace == _flows.c.namespace,
                _revisions.c.flow_id == _flows.c.flow_id,
                _revisions.c.revision == _flows.c.revision,
            ),
        )
    )
    for namespace, flow_id, source in current.all():
        names = _secret_ids(_parse(source or "").get("inputs"))
        if names:
            _seal_old_backfills(connection, namespace, flow_id, names)


def _seal_old_answers(connection, namespace: str, flow_id: str, flow_revision: int, pauses: dict[str, list[str]]):
    from engine.workspace.secrets import (
        MASK,
        seal_inputs,
    )  # the one way values are encrypted; the key is loaded only if needed

    rows = connection.execute(
        sa.select(_runs.c.id, _runs.c.task_id, _runs.c.outputs, _runs.c.secret_outputs)
        .join(_executions, _executions.c.id == _runs.c.execution_id)
        .where(
            _executions.c.namespace == namespace,
            _executions.c.flow_id == flow_id,
            _executions.c.flow_revision == flow_revision,
            _runs.c.task_id.in_(list(pauses)),
        )
    )
    for run_id, task_id, outputs, secret_outputs in rows.all():
        resumed = (outputs or {}).get("resumed")
        if not isinstance(resumed, dict):
            continue
        plain = [name for name in pauses[task_id] if resumed.get(name) not in (None, MASK)]
        shown, sealed = seal_inputs(resumed, plain)
        if sealed:
            connection.execute(
                sa.update(_runs)
                .where(_runs.c.id == run_id)
                .values(
                    outputs={**outputs, "resumed": shown}, secret_outputs={**(secret_outputs or {}), "resumed": sealed}
                )
            )


def _seal_old_backfills(connection, namespace: str, flow_id: str, names: list[str]) -> None:
    from engine.workspace.secrets import MASK, seal_inputs

    rows = connection.execute(
        sa.select(_states.c.trigger_id, _states.c.data).where(
            _states.c.namespace == namespace, _states.c.flow_id == flow_id
        )
    )
    for trigger_id, data in rows.all():
        backfill = (data or {}).get("backfill") or {}
        inputs = backfill.get("inputs") or {}
        plain = [name for name in names if inputs.get(name) not in (None, MASK)]
        shown, sealed = seal_inputs(inputs, plain)
        if sealed:
            backfill = {**backfill, "inputs": shown, "secretInputs": {**(backfill.get("secretInputs") or {}), **sealed}}
            connection.execute(
                sa.update(_states)
                .where(
                    _states.c.namespace == namespace, _states.c.flow_id == flow_id, _states.c.trigger_id == trigger_id
                )
                .values(data={**data, "backfill": backfill})
            )


def downgrade() -> None:
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.drop_column("secret_outputs")
