"""execution sla_breaches: the flow's SLAs an execution breached (engine/core/sla.py), shown with it

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite's batch mode would copy and drop a table task runs and logs reference).
    op.add_column("execution", sa.Column("sla_breaches", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("execution") as batch:
        batch.drop_column("sla_breaches")
