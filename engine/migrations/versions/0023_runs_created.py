"""an execution's count of task runs created, kept by the database itself

A snapshot that reads again only the task runs that may have changed (engine/services/snapshots.py) must know it
missed none: a run created by another process and settled before the snapshot looks, with a creation time before
the newest run it had seen (a clock behind, or a commit that came late). It counted the execution's settled runs to
tell, a count that grows with the execution (5 ms at 4,000 task runs on PostgreSQL, on every advance and every task
run). A trigger now counts the runs created, whoever inserts them; the snapshot compares that number, read with one
primary-key lookup, with the runs it holds. Only differences are compared, so executions from before start at 0.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

SQLITE_TRIGGER = """CREATE TRIGGER task_run_created AFTER INSERT ON task_run
BEGIN UPDATE execution SET runs_created = runs_created + 1 WHERE id = new.execution_id; END"""
# Once per statement over the rows it inserted (an executemany is one statement per row; a bulk insert is one),
# executions in id order: two writers never lock two executions in opposite orders.
PG_FUNCTION = """CREATE FUNCTION task_run_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE execution SET runs_created = execution.runs_created + created.runs
    FROM (SELECT execution_id, count(*) AS runs FROM created_runs GROUP BY execution_id ORDER BY execution_id) AS created
    WHERE execution.id = created.execution_id;
    RETURN NULL;
END $$"""
PG_TRIGGER = """CREATE TRIGGER task_run_created AFTER INSERT ON task_run REFERENCING NEW TABLE AS created_runs
FOR EACH STATEMENT EXECUTE FUNCTION task_run_created()"""


def upgrade() -> None:
    with op.batch_alter_table("execution") as batch_op:
        batch_op.add_column(sa.Column("runs_created", sa.Integer(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS task_run_created ON task_run")
        op.execute("DROP FUNCTION IF EXISTS task_run_created()")
    else:
        op.execute("DROP TRIGGER IF EXISTS task_run_created")
    with op.batch_alter_table("execution") as batch_op:
        batch_op.drop_column("runs_created")
