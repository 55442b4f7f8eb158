"""secret inputs encrypted

An execution's ``SECRET`` inputs are kept encrypted in ``secret_inputs`` (engine/workspace/secrets.py) and shown as
``****`` in ``inputs``. Executions saved before this migration held them in plain text: each one is moved
into ``secret_inputs`` here, under the installation's key, so old runs can still be replayed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

import sqlalchemy as sa
import yaml
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_revisions = sa.table(
    "flow_revision", sa.column("namespace"), sa.column("flow_id"), sa.column("revision"), sa.column("source")
)
_executions = sa.table(
    "execution",
    sa.column("id"),
    sa.column("namespace"),
    sa.column("flow_id"),
    sa.column("flow_revision"),
    sa.column("inputs", sa.JSON),
    sa.column("secret_inputs", sa.JSON),
)


def _secret_input_ids(source: str) -> list[str]:
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError:
        return []
    declared = data.get("inputs") if isinstance(data, dict) else None
    if not isinstance(declared, list):
        return []
    return [
        i["id"] for i in declared if isinstance(i, dict) and i.get("type") == "SECRET" and isinstance(i.get("id"), str)
    ]


def upgrade() -> None:
    with op.batch_alter_table("execution", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_inputs", sa.JSON(), nullable=True))
    connection = op.get_bind()
    revisions = connection.execute(
        sa.select(_revisions).where(_revisions.c.source.like("%SECRET%"))  # a cheap filter before parsing
    )
    for namespace, flow_id, revision, source in revisions.all():
        names = _secret_input_ids(source)
        if names:
            _seal_old_rows(connection, namespace, flow_id, revision, names)


def _seal_old_rows(connection, namespace: str, flow_id: str, revision: int, names: list[str]) -> None:
    from engine.workspace.secrets import (
        seal_inputs,
    )  # the one way inputs are encrypted; the key is loaded only if needed

    rows = connection.execute(
        sa.select(_executions.c.id, _executions.c.inputs).where(
            _executions.c.namespace == namespace,
            _executions.c.flow_id == flow_id,
            _executions.c.flow_revision == revision,
        )
    )
    for execution_id, inputs in rows.all():
        shown, sealed = seal_inputs(inputs or {}, names)
        if sealed:
            connection.execute(
                sa.update(_executions)
                .where(_executions.c.id == execution_id)
                .values(inputs=shown, secret_inputs=sealed)
            )


def downgrade() -> None:
    with op.batch_alter_table("execution", schema=None) as batch_op:
        batch_op.drop_column("secret_inputs")
