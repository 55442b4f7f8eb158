"""history indexes cover the test flag: charts read their indexes alone again

Tests of one task (0016) are kept out of the charts. Checking that per row read the execution row (task runs and
log lines looked it up by primary key, executions read their own row): 3.8 s for the slowest tasks over 1,000,000
task runs. The chart indexes now carry what that check needs (the execution's ``test`` flag, the task run's and
log line's ``execution_id``), and the few test executions have a partial index of their own. A flow's executions
carry test, state and duration too: its charts, and the count of a page filtered by namespace, read only it. And
duration percentiles on SQLite walk an index of durations instead of sorting them.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

FLOW_CREATED = ["namespace", "flow_id", "created_at"]
TASK_RUN_STATS = ["namespace", "flow_id", "task_id", "created_at", "state", "duration_ms"]


def upgrade() -> None:
    op.drop_index("ix_execution_flow_created", table_name="execution")
    op.create_index("ix_execution_flow_created", "execution", [*FLOW_CREATED, "test", "state", "duration_ms"])
    op.drop_index("ix_execution_created_stats", table_name="execution")
    op.create_index("ix_execution_created_stats", "execution", ["created_at", "state", "duration_ms", "test"])
    op.create_index("ix_execution_duration", "execution", ["duration_ms", "created_at", "test", "namespace", "flow_id"])
    op.create_index(
        "ix_execution_test", "execution", ["id"], sqlite_where=sa.text("test = 1"), postgresql_where=sa.text("test")
    )
    op.drop_index("ix_task_run_flow_task_stats", table_name="task_run")
    op.create_index("ix_task_run_flow_task_stats", "task_run", [*TASK_RUN_STATS, "execution_id"])
    op.drop_index("ix_log_line_time_level", table_name="log_line")
    op.create_index("ix_log_line_time_level", "log_line", ["timestamp", "level", "execution_id"])
    op.drop_index("ix_log_line_namespace_time", table_name="log_line")
    op.create_index("ix_log_line_namespace_time", "log_line", ["namespace", "timestamp", "level", "execution_id"])


def downgrade() -> None:
    op.drop_index("ix_log_line_namespace_time", table_name="log_line")
    op.create_index("ix_log_line_namespace_time", "log_line", ["namespace", "timestamp"])
    op.drop_index("ix_log_line_time_level", table_name="log_line")
    op.create_index("ix_log_line_time_level", "log_line", ["timestamp", "level"])
    op.drop_index("ix_task_run_flow_task_stats", table_name="task_run")
    op.create_index("ix_task_run_flow_task_stats", "task_run", TASK_RUN_STATS)
    op.drop_index("ix_execution_test", table_name="execution")
    op.drop_index("ix_execution_duration", table_name="execution")
    op.drop_index("ix_execution_created_stats", table_name="execution")
    op.create_index("ix_execution_created_stats", "execution", ["created_at", "state", "duration_ms"])
    op.drop_index("ix_execution_flow_created", table_name="execution")
    op.create_index("ix_execution_flow_created", "execution", FLOW_CREATED)
