"""``<family>.trigger``: a query run every ``interval``; when it returns rows, an execution starts with them, and an
``afterSql`` statement (marking them handled) runs in the same transaction as the query.

The order makes each row start one execution: the query and ``afterSql`` run in one transaction of the watched
database, which commits only once the execution is committed in Lanner's (the listener acknowledges the poll then);
if Lanner's commit fails, the watched transaction rolls back and the rows are found again at the next poll. A
crash between the two commits leaves the rows unmarked: the next poll finds the same rows, recognised by their
fingerprint, and starts nothing new for them (other rows found with them make a new execution: at least once).

What the query sees must not change under ``afterSql``: on PostgreSQL the transaction is REPEATABLE READ (the
update reads the query's snapshot, so a row inserted meanwhile is left for the next poll); on MySQL/MariaDB it is
SERIALIZABLE (the query's rows and gaps are locked, so an insert into them waits for the commit).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from engine.flows.triggers import PollingTrigger, trigger_types
from engine.messaging.base import BrokerUnavailable, Message, Poller
from engine.tasks.context import TaskFailed
from engine.tasks.sql.connection import Connection, Database, json_safe
from engine.tasks.sql.query import MySqlQuery, PostgresQuery, SqliteQuery, SqlQuery, SqlText

INLINE_ROWS = 100  # up to this many rows are also given inline as trigger.rows (all are in the file)
ISOLATION = {"postgresql": "REPEATABLE READ", "mysql": "SERIALIZABLE", "mariadb": "SERIALIZABLE"}


class RowsFound(Message):
    """The rows one poll found, as a message: acknowledging it commits the poll's transaction."""

    def as_output(self) -> dict[str, Any]:
        rows = json.loads(self.body)
        return {"count": len(rows), "rows": rows if len(rows) <= INLINE_ROWS else None, "where": self.topic}


class SqlPoll(Poller):
    """Polls that returned rows, as messages: each poll runs the query (and afterSql) in a new transaction, which
    ``ack`` commits, and ``nack`` and ``close`` roll back."""

    def __init__(self, trigger: SqlTrigger) -> None:
        import sqlalchemy
        from sqlalchemy.pool import NullPool

        super().__init__(trigger.interval.total_seconds())
        self.trigger, self.database = trigger, trigger.database()
        self.url = self.database.sqlalchemy_url()
        self.where = self.database.where(self.url)
        isolation = ISOLATION.get(self.url.get_backend_name())
        options = {"isolation_level": isolation} if isolation else {}
        self.engine = sqlalchemy.create_engine(self.url, poolclass=NullPool, **options)
        self.connection: Any = None
        self.transaction: Any = None

    def poll(self) -> Message | None:
        from sqlalchemy import exc as sa_exc
        from sqlalchemy import text

        try:
            self.connection = self.engine.connect()
            self.transaction = self.connection.begin()
            result = self.connection.execute(text(self.trigger.sql))
            columns = list(result.keys())
            rows = [dict(zip(columns, (json_safe(v) for v in row), strict=True)) for row in result.fetchmany(
                self.trigger.max_rows)]  # fmt: skip
            if not rows:
                self._end(commit=False)
                return None
            if self.trigger.after_sql:
                self.connection.execute(text(self.trigger.after_sql))
        except sa_exc.SQLAlchemyError as exc:
            self._end(commit=False)
            raise BrokerUnavailable(str(self.database.failure(self.url, "the poll failed", exc))) from None
        body = json.dumps(rows, separators=(",", ":"), sort_keys=True, default=str).encode()
        fingerprint = hashlib.sha256(body).hexdigest()
        return RowsFound(body=body, topic=self.where, message_id=f"rows:{fingerprint}")

    def ack(self, message: Message) -> None:
        self._end(commit=True)

    def nack(self, message: Message) -> None:
        self._end(commit=False)

    def close(self) -> None:
        self._end(commit=False)
        self.engine.dispose()

    def _end(self, *, commit: bool) -> None:
        from sqlalchemy import exc as sa_exc

        try:
            if self.transaction is not None and self.transaction.is_active:
                self.transaction.commit() if commit else self.transaction.rollback()
        except sa_exc.SQLAlchemyError as exc:
            raise BrokerUnavailable(str(self.database.failure(self.url, "the poll's commit failed", exc))) from None
        finally:
            if self.connection is not None:
                self.connection.close()
            self.connection = self.transaction = None


class SqlTrigger(PollingTrigger):
    """Start the flow when a query returns rows (checked every interval)."""

    url: str | None = None
    """The database's address in one line, e.g. postgresql://user@host:5432/shop; keep it in a secret:
    {{ secret('SHOP_DSN') }}. Give either url or connection."""
    connection: Connection | None = None
    """The database's address in parts (host, database, username, password); give either url or connection."""
    sql: SqlText
    """The query, e.g. SELECT * FROM orders WHERE processed = false ORDER BY id."""
    after_sql: str | None = None
    """Run after the query, in the same transaction, to mark the rows handled, e.g.
    UPDATE orders SET processed = true WHERE processed = false."""
    max_rows: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000
    """Most rows one execution gets (they are kept as a file: trigger.uri)."""

    query_type: ClassVar[type[Database]] = SqlQuery

    @model_validator(mode="after")
    def _one_address(self) -> SqlTrigger:
        if self.url is not None and self.connection is not None:
            raise ValueError("give url or connection, not both")
        return self

    def database(self) -> Database:
        """The family's query task with this address: it builds, checks and names the address like the tasks do."""
        return self.query_type.model_construct(url=self.url, connection=self.connection)

    def subscribe(self, name: str, consumer: str, namespace: str) -> SqlPoll:
        try:
            return SqlPoll(self)
        except TaskFailed as exc:
            raise BrokerUnavailable(str(exc)) from None

    def where(self) -> str:
        try:
            database = self.database()
            return database.where(database.sqlalchemy_url())
        except TaskFailed:
            return "a database with an incomplete address"

    def details(self, batch: list[Any], keep: Any) -> dict[str, Any]:
        shown = batch[0].as_output()
        return {**shown, "uri": keep(json.loads(batch[0].body))}


@trigger_types.register
class AnySqlTrigger(SqlTrigger):
    type: Literal["sql.trigger"]


@trigger_types.register
class PostgresTrigger(SqlTrigger):
    type: Literal["postgresql.trigger"]
    query_type: ClassVar[type[Database]] = PostgresQuery


@trigger_types.register
class MySqlTrigger(SqlTrigger):
    type: Literal["mysql.trigger"]
    query_type: ClassVar[type[Database]] = MySqlQuery


@trigger_types.register
class SqliteTrigger(SqlTrigger):
    type: Literal["sqlite.trigger"]
    query_type: ClassVar[type[Database]] = SqliteQuery
