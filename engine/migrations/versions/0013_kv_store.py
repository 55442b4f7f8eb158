"""kv store: per-namespace keys and JSON values, with an optional expiry, read by ``kv('key')``

A namespace's entries are read by its flows and by those of the namespaces below it (the nearest namespace that
sets a key wins), written by the API, the studio and the ``kv.set``/``kv.delete`` tasks (engine/workspace/kv.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kv_entry",
        sa.Column("namespace", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.PrimaryKeyConstraint("namespace", "key"),
    )
    op.create_index("ix_kv_entry_expires_at", "kv_entry", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_kv_entry_expires_at", table_name="kv_entry")
    op.drop_table("kv_entry")
