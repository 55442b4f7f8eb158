"""an execution's runs generation, and its task runs indexed by state

An advance and a task run read again only the task runs that may have changed since the last snapshot of their
execution (engine/services/snapshots.py): those that have not settled, and those settled since. The index lets them
find those, and count the settled ones, without reading the others' rows. The generation goes up whenever task
runs of the execution are deleted (a restart, a working-directory group's new attempt), which no count can tell: a
snapshot kept from an older generation is read again whole.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("execution") as batch_op:
        batch_op.add_column(sa.Column("runs_generation", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_task_run_execution_state", "task_run", ["execution_id", "state", "created_at"])
    op.drop_index("ix_task_run_execution_id", table_name="task_run")


def downgrade() -> None:
    op.create_index("ix_task_run_execution_id", "task_run", ["execution_id"])
    op.drop_index("ix_task_run_execution_state", table_name="task_run")
    with op.batch_alter_table("execution") as batch_op:
        batch_op.drop_column("runs_generation")
