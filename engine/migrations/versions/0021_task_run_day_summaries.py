"""task run day summaries: per-task totals of closed days, kept current by triggers; durations in order per task

The slowest and most failing tasks read every task run of their window (10,000,000 at 1,000,000 executions:
2.3 s on SQLite). ``task_run_day`` holds per-task totals of each closed UTC day (engine/store/task_summaries.py);
``task_run_day_summary`` says which days' totals are current ("done"). Triggers mark a day "stale" whenever a
task run created that day (before today, so never on the hot path of runs being written now) is inserted,
updated or deleted, and whenever an execution's ``test`` flag changes: every write path is caught, present or
future (restarts, deletions, retention purges, a late end). ``ix_task_run_task_duration`` walks one task's
durations in order: exact percentiles from two offset reads instead of a sort.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# A marker row written (not deleted) by the triggers: a writer then holds the marker's lock until it commits, which
# is what makes summarizing race-free on PostgreSQL (engine/store/task_summaries.py explains).
SQLITE_STALE = "INSERT INTO task_run_day_summary (day, state) VALUES (date({row}.created_at), 'stale') "
SQLITE_UPSERT = "ON CONFLICT (day) DO UPDATE SET state = 'stale'"
SQLITE_OLD = "{row}.created_at < date('now')"  # stored as UTC text: before today's UTC midnight
COLUMNS = "state, duration_ms, namespace, flow_id, task_id, created_at, execution_id"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER task_run_day_stale_insert AFTER INSERT ON task_run
    WHEN {SQLITE_OLD.format(row="new")}
    BEGIN {SQLITE_STALE.format(row="new")}{SQLITE_UPSERT}; END""",
    f"""CREATE TRIGGER task_run_day_stale_update AFTER UPDATE OF {COLUMNS} ON task_run
    WHEN {SQLITE_OLD.format(row="old")} OR {SQLITE_OLD.format(row="new")}
    BEGIN
        {SQLITE_STALE.format(row="old")}{SQLITE_UPSERT};
        {SQLITE_STALE.format(row="new")}{SQLITE_UPSERT};
    END""",
    f"""CREATE TRIGGER task_run_day_stale_delete AFTER DELETE ON task_run
    WHEN {SQLITE_OLD.format(row="old")}
    BEGIN {SQLITE_STALE.format(row="old")}{SQLITE_UPSERT}; END""",
    f"""CREATE TRIGGER task_run_day_stale_test AFTER UPDATE OF test ON execution
    WHEN old.test IS NOT new.test
    BEGIN
        INSERT INTO task_run_day_summary (day, state)
        SELECT DISTINCT date(created_at), 'stale' FROM task_run WHERE execution_id = new.id
        {SQLITE_UPSERT};
    END""",
]

PG_DAY = "(({value}) AT TIME ZONE 'UTC')::date"
PG_TODAY = "(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"  # today's UTC midnight
PG_UPSERT = "ON CONFLICT (day) DO UPDATE SET state = 'stale'"
PG_TRIGGERS = [
    # A day the sweep may summarize (before yesterday) has its marker upserted: the writer holds its lock until it
    # commits. Yesterday's runs, which the hot path still ends after midnight, only update a marker that exists,
    # which it never does yet (the sweep waits a day and an hour): no lock, so no contention on one marker row.
    f"""CREATE FUNCTION task_run_day_stale(stale_day date) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        IF stale_day < (now() AT TIME ZONE 'UTC')::date - 1 THEN  -- before yesterday, in UTC whatever TimeZone
            INSERT INTO task_run_day_summary (day, state) VALUES (stale_day, 'stale') {PG_UPSERT};
        ELSE
            UPDATE task_run_day_summary SET state = 'stale' WHERE task_run_day_summary.day = stale_day;
        END IF;
    END $$""",
    f"""CREATE FUNCTION task_run_day_stale_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            PERFORM task_run_day_stale({PG_DAY.format(value="OLD.created_at")});
        END IF;
        IF TG_OP = 'INSERT' THEN
            PERFORM task_run_day_stale({PG_DAY.format(value="NEW.created_at")});
        ELSIF {PG_DAY.format(value="NEW.created_at")} <> {PG_DAY.format(value="OLD.created_at")} THEN
            PERFORM task_run_day_stale({PG_DAY.format(value="NEW.created_at")});
        END IF;
        RETURN NULL;
    END $$""",
    # Per row, behind a WHEN the executor evaluates without calling the function: runs created today pay nothing.
    f"""CREATE TRIGGER task_run_day_stale_insert AFTER INSERT ON task_run FOR EACH ROW
    WHEN (NEW.created_at < {PG_TODAY}) EXECUTE FUNCTION task_run_day_stale_row()""",
    f"""CREATE TRIGGER task_run_day_stale_update AFTER UPDATE OF {COLUMNS} ON task_run FOR EACH ROW
    WHEN (OLD.created_at < {PG_TODAY} OR NEW.created_at < {PG_TODAY}) EXECUTE FUNCTION task_run_day_stale_row()""",
    # Deletions come in bulk (an execution's runs, retention purges): once per statement, over the deleted rows.
    f"""CREATE FUNCTION task_run_day_stale_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM task_run_day_stale(day) FROM (
            SELECT DISTINCT {PG_DAY.format(value="created_at")} AS day FROM deleted_runs WHERE created_at < {PG_TODAY}
            ORDER BY 1
        ) AS days;  -- in day order, as every statement's: two writers never lock two markers in opposite orders
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER task_run_day_stale_delete AFTER DELETE ON task_run REFERENCING OLD TABLE AS deleted_runs
    FOR EACH STATEMENT EXECUTE FUNCTION task_run_day_stale_deleted()""",
    f"""CREATE FUNCTION task_run_day_stale_test() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM task_run_day_stale(day) FROM (
            SELECT DISTINCT {PG_DAY.format(value="created_at")} AS day FROM task_run WHERE execution_id = NEW.id
            ORDER BY 1
        ) AS days;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER task_run_day_stale_test AFTER UPDATE OF test ON execution FOR EACH ROW
    WHEN (OLD.test IS DISTINCT FROM NEW.test) EXECUTE FUNCTION task_run_day_stale_test()""",
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS task_run_day_stale_test ON execution",
    "DROP TRIGGER IF EXISTS task_run_day_stale_delete ON task_run",
    "DROP TRIGGER IF EXISTS task_run_day_stale_update ON task_run",
    "DROP TRIGGER IF EXISTS task_run_day_stale_insert ON task_run",
    "DROP FUNCTION IF EXISTS task_run_day_stale_test()",
    "DROP FUNCTION IF EXISTS task_run_day_stale_deleted()",
    "DROP FUNCTION IF EXISTS task_run_day_stale_row()",
    "DROP FUNCTION IF EXISTS task_run_day_stale(date)",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS task_run_day_stale_test",
    "DROP TRIGGER IF EXISTS task_run_day_stale_delete",
    "DROP TRIGGER IF EXISTS task_run_day_stale_update",
    "DROP TRIGGER IF EXISTS task_run_day_stale_insert",
]


def upgrade() -> None:
    op.create_table(
        "task_run_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("namespace", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("flow_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("task_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("ended", sa.Integer(), nullable=False),
        sa.Column("sum_ms", sa.BigInteger(), nullable=False),
        sa.Column("min_ms", sa.Integer(), nullable=True),
        sa.Column("max_ms", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "namespace", "flow_id", "task_id"),
    )
    op.create_table(
        "task_run_day_summary",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_index(
        "ix_task_run_task_duration",
        "task_run",
        ["namespace", "flow_id", "task_id", "duration_ms", "created_at", "execution_id"],
    )
    for statement in PG_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for statement in PG_DROP if op.get_bind().dialect.name == "postgresql" else SQLITE_DROP:
        op.execute(statement)
    op.drop_index("ix_task_run_task_duration", table_name="task_run")
    op.drop_table("task_run_day_summary")
    op.drop_table("task_run_day")
