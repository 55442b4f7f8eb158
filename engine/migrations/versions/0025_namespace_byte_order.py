"""namespace names compare by their bytes on PostgreSQL, as on SQLite

"Below acme" was ``namespace LIKE 'acme.%'`` on PostgreSQL, which no index answers in a linguistic collation (nor
in ``C.UTF-8`` on PostgreSQL 15): a one-team viewer's executions page counted by reading every execution's index
entry (0.55 s at 1,000,000 executions). In the ``C`` collation the range ``['acme.', 'acme/')`` is exact and the
namespace indexes answer it, as on SQLite (engine/core/namespaces.py). Every column holding a namespace name moves,
so that joins and comparisons between them keep one collation and lists sorted by namespace come out in the same
order on both databases. Names are ASCII (``[a-z0-9_-]`` and dots), so no name changes, only the order.

SQLite already compares text by its bytes (its BINARY collation): nothing to do there.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

COLUMNS = [
    ("audit_event", "namespace"),
    ("execution", "namespace"),
    ("flow", "namespace"),
    ("flow_revision", "namespace"),
    ("kv_entry", "namespace"),
    ("log_line", "namespace"),
    ("membership", "namespace"),
    ("namespace", "name"),
    ("namespace_secret", "namespace"),
    ("namespace_settings", "namespace"),
    ("namespace_task_defaults", "namespace"),
    ("namespace_variable", "namespace"),
    ("share_link", "namespace"),
    ("task_run", "namespace"),
    ("task_run_day", "namespace"),
    ("trigger_fire", "namespace"),
    ("trigger_state", "namespace"),
]


def _collate(collation: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        # PostgreSQL will not retype a column a trigger names (task_run's, migration 0021): each of the table's
        # triggers is dropped and created again as it was, in this same transaction.
        triggers = bind.execute(
            sa.text(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = CAST(:table AS regclass) "
                "AND NOT tgisinternal ORDER BY tgname"
            ),
            {"table": table},
        ).all()
        for name, _ in triggers:
            op.execute(f'DROP TRIGGER "{name}" ON {table}')
        # The type is unchanged, so the rows stay where they are: PostgreSQL rebuilds the column's indexes only.
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar(150) COLLATE "{collation}"')
        for _, definition in triggers:
            op.execute(definition)
        # Retyping drops the column's statistics, which autovacuum gathers again only once enough rows change:
        # without them, a one-team viewer's executions page took 1.3 s instead of 0.5 s at 1,000,000 executions.
        op.execute(f"ANALYZE {table} ({column})")


def upgrade() -> None:
    _collate("C")


def downgrade() -> None:
    _collate("default")
