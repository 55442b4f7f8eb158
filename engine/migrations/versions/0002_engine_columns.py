"""engine columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("execution", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "updated_at",
                sqlmodel.sql.sqltypes.UTCDateTime(),
                nullable=False,
                server_default=sa.text("CURRENT_TIMESTAMP"),
            )
        )

    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False, server_default="worker")
        )
        batch_op.add_column(sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_task_run_state", ["state"], unique=False)
        batch_op.alter_column("value", type_=sa.JSON(), existing_type=sa.Text(), postgresql_using="to_json(value)")


def downgrade() -> None:
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.alter_column("value", type_=sa.Text(), existing_type=sa.JSON())
        batch_op.drop_index("ix_task_run_state")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("kind")

    with op.batch_alter_table("execution", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
