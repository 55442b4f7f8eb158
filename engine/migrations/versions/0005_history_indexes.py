"""history indexes

Covering indexes for the run-history aggregations (engine/store/stats.py): the execution and task-run
indexes gain state and duration_ms (same leading columns, so they replace the old ones), and log lines get
one on (timestamp, level).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("execution", schema=None) as batch_op:
        batch_op.drop_index("ix_execution_created")
        batch_op.create_index("ix_execution_created_stats", ["created_at", "state", "duration_ms"], unique=False)

    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.drop_index("ix_task_run_flow_task")
        batch_op.create_index(
            "ix_task_run_flow_task_stats",
            ["namespace", "flow_id", "task_id", "created_at", "state", "duration_ms"],
            unique=False,
        )

    with op.batch_alter_table("log_line", schema=None) as batch_op:
        batch_op.create_index("ix_log_line_time_level", ["timestamp", "level"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("log_line", schema=None) as batch_op:
        batch_op.drop_index("ix_log_line_time_level")

    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.drop_index("ix_task_run_flow_task_stats")
        batch_op.create_index(
            "ix_task_run_flow_task",
            ["namespace", "flow_id", "task_id", "created_at"],
            unique=False,
        )

    with op.batch_alter_table("execution", schema=None) as batch_op:
        batch_op.drop_index("ix_execution_created_stats")
        batch_op.create_index("ix_execution_created", ["created_at"], unique=False)
