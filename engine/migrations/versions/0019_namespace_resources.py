"""namespace resources: a worker group per task run and per namespace, and per-namespace limits

task_run.worker_group names the queue a run goes to; namespace_settings holds a namespace's worker group and its
limits of running executions and task runs (engine/workspace/resources.py, engine/runtime/fair_share.py).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite's batch mode would copy and drop a table other tables reference).
    op.add_column("task_run", sa.Column("worker_group", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_index("ix_task_run_namespace_state", "task_run", ["namespace", "state"])
    op.create_table(
        "namespace_settings",
        sa.Column("namespace", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("worker_group", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("max_running_executions", sa.Integer(), nullable=True),
        sa.Column("max_running_task_runs", sa.Integer(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.PrimaryKeyConstraint("namespace"),
    )


def downgrade() -> None:
    op.drop_table("namespace_settings")
    op.drop_index("ix_task_run_namespace_state", "task_run")
    with op.batch_alter_table("task_run") as batch:
        batch.drop_column("worker_group")
