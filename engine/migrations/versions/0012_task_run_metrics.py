"""task run metrics: counters and timers a script reports through the SDK, per task run and per attempt

``metrics`` holds a JSON list of entries (engine/tasks/metrics.py): ``{"type": "counter", "name", "tags", "value"}``
or ``{"type": "timer", "name", "tags", "count", "total", "min", "max"}``. NULL for runs that reported none.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("task_run", "task_run_attempt"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("metrics", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in ("task_run", "task_run_attempt"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("metrics")
