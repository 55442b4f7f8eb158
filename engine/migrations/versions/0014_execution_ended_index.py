"""execution ended_at index: the retention purge reads the oldest ended executions first, without a scan

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_execution_ended", "execution", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_execution_ended", table_name="execution")
