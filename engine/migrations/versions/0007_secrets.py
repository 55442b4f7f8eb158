"""namespace variables and secrets

Values that flows of a namespace (and of the namespaces below it) read as ``vars.<name>`` and
``secret('NAME')``. Secrets are stored encrypted only (engine/identity/crypto.py), with the id of their key.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "namespace_variable",
        sa.Column("namespace", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.PrimaryKeyConstraint("namespace", "name"),
    )
    op.create_table(
        "namespace_secret",
        sa.Column("namespace", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.PrimaryKeyConstraint("namespace", "name"),
    )


def downgrade() -> None:
    op.drop_table("namespace_secret")
    op.drop_table("namespace_variable")
