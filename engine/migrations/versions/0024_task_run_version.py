"""a task run's version, raised by every change to its row

A snapshot reads again the task runs of its execution that may have changed since the last one
(engine/services/snapshots.py). Those not settled were read again whole every time, each row decoded (four JSON
columns, four times): a flow of 100 tasks side by side had every task run read the ~50 still waiting, and every
advance too, so its cost grew with the square of its width. Each run now carries a version, and a snapshot reads
again only the unsettled runs whose version is not the one it holds.

The statements that change task runs raise it themselves (store/executions.py, store/namespace_settings.py); a
trigger raises it for any change that did not, whoever makes it, so no change can go unseen.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# SQLite cannot change NEW in a trigger: the row is written again, only when the change left the version as it was.
# (Triggers do not fire from within triggers unless recursive_triggers is on, which Lanner never sets.)
SQLITE_TRIGGER = """CREATE TRIGGER task_run_version AFTER UPDATE ON task_run WHEN new.version = old.version
BEGIN UPDATE task_run SET version = old.version + 1 WHERE id = new.id; END"""
PG_FUNCTION = """CREATE FUNCTION task_run_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END $$"""
PG_TRIGGER = """CREATE TRIGGER task_run_version BEFORE UPDATE ON task_run FOR EACH ROW
WHEN (NEW.version = OLD.version) EXECUTE FUNCTION task_run_version()"""


def upgrade() -> None:
    # Not in a batch: on SQLite a batch could copy the table into a new one, without its triggers.
    op.add_column("task_run", sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS task_run_version ON task_run")
        op.execute("DROP FUNCTION IF EXISTS task_run_version()")
    else:
        op.execute("DROP TRIGGER IF EXISTS task_run_version")
    op.execute("ALTER TABLE task_run DROP COLUMN version")
