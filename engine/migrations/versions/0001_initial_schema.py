"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "execution",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("namespace", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("flow_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("flow_revision", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=True),
        sa.Column(
            "parent_execution_id",
            sqlmodel.sql.sqltypes.AutoString(length=36),
            nullable=True,
        ),
        sa.Column(
            "parent_task_run_id",
            sqlmodel.sql.sqltypes.AutoString(length=36),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("execution", schema=None) as batch_op:
        batch_op.create_index("ix_execution_created", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_execution_flow_created",
            ["namespace", "flow_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_execution_parent_execution_id"),
            ["parent_execution_id"],
            unique=False,
        )
        batch_op.create_index("ix_execution_state_created", ["state", "created_at"], unique=False)

    op.create_table(
        "flow",
        sa.Column("namespace", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("flow_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("namespace", "flow_id"),
    )
    with op.batch_alter_table("flow", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flow_deleted"), ["deleted"], unique=False)

    op.create_table(
        "flow_revision",
        sa.Column("namespace", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("flow_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "flow_id", "revision"),
    )
    op.create_table(
        "log_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("execution_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("namespace", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("flow_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("task_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("task_run_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("timestamp", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("log_line", schema=None) as batch_op:
        batch_op.create_index("ix_log_line_execution", ["execution_id", "id"], unique=False)
        batch_op.create_index("ix_log_line_namespace_time", ["namespace", "timestamp"], unique=False)

    op.create_table(
        "namespace",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "trigger_state",
        sa.Column("namespace", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("flow_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("trigger_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_fire_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_fire_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column(
            "last_execution_id",
            sqlmodel.sql.sqltypes.AutoString(length=36),
            nullable=True,
        ),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "flow_id", "trigger_id"),
    )
    with op.batch_alter_table("trigger_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trigger_state_next_fire_at"), ["next_fire_at"], unique=False)

    op.create_table(
        "task_run",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("execution_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("namespace", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("flow_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("task_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "parent_task_run_id",
            sqlmodel.sql.sqltypes.AutoString(length=36),
            nullable=True,
        ),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("iteration", sa.Integer(), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["execution.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_run_execution_id"), ["execution_id"], unique=False)
        batch_op.create_index(
            "ix_task_run_flow_task",
            ["namespace", "flow_id", "task_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "task_run_attempt",
        sa.Column("task_run_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("worker", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_run_id"],
            ["task_run.id"],
        ),
        sa.PrimaryKeyConstraint("task_run_id", "attempt"),
    )


def downgrade() -> None:
    op.drop_table("task_run_attempt")
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.drop_index("ix_task_run_flow_task")
        batch_op.drop_index(batch_op.f("ix_task_run_execution_id"))

    op.drop_table("task_run")
    with op.batch_alter_table("trigger_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trigger_state_next_fire_at"))

    op.drop_table("trigger_state")
    op.drop_table("namespace")
    with op.batch_alter_table("log_line", schema=None) as batch_op:
        batch_op.drop_index("ix_log_line_namespace_time")
        batch_op.drop_index("ix_log_line_execution")

    op.drop_table("log_line")
    op.drop_table("flow_revision")
    with op.batch_alter_table("flow", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_deleted"))

    op.drop_table("flow")
    with op.batch_alter_table("execution", schema=None) as batch_op:
        batch_op.drop_index("ix_execution_state_created")
        batch_op.drop_index(batch_op.f("ix_execution_parent_execution_id"))
        batch_op.drop_index("ix_execution_flow_created")
        batch_op.drop_index("ix_execution_created")

    op.drop_table("execution")
