"""Testing a database task's connection from the studio's form, before any flow runs it.

The task's address properties (``url`` or ``connection``, with the namespace's task defaults for what it leaves
out) are rendered with that namespace's secrets (``secret()`` only: there is no execution to read anything else
from), then ``Database.ping`` runs ``SELECT 1`` within 5 seconds. The answer names host and database, never the
password nor a secret's value: every value ``secret()`` gave is masked in the message.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from engine.core.errors import InvalidInput
from engine.core.expressions import ExpressionError, render
from engine.flows.spec import RENDERED
from engine.flows.task_defaults import apply_defaults
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.services.workspaces import check_namespace
from engine.store.database import session_scope
from engine.tasks import registry
from engine.tasks.context import TaskFailed
from engine.tasks.sql.connection import FAMILIES, Connection, Database
from engine.workspace.secrets import secret_resolver
from engine.workspace.task_defaults import inherited_defaults

TIMEOUT_SECONDS = 5.0
ADDRESS = ("url", "connection")


@dataclass
class ConnectionTestResult:
    ok: bool
    message: str


def database_model(type_name: Any) -> type[Database] | None:
    """The ``Database`` model of a task type: its own, or its family's (``postgresql.query`` -> PostgreSQL)."""
    if not isinstance(type_name, str):
        return None
    model = registry.get(type_name)
    if isinstance(model, type) and issubclass(model, Database):
        return model
    return FAMILIES.get(type_name.split(".", 1)[0])


def test_connection(db: Engine, principal: Principal, namespace: str, task: dict[str, Any]) -> ConnectionTestResult:
    """Whether the task's database answers; ``InvalidInput`` for a task that is no database task."""
    authz.require(principal, Action.EDIT_FLOW, namespace)
    check_namespace(namespace)
    model = database_model(task.get("type"))
    if model is None:
        raise InvalidInput(f"'{task.get('type')}' is not a database task type (e.g. postgresql.query)")
    data = {"type": task["type"], **{key: task[key] for key in ADDRESS if task.get(key) not in (None, "", {})}}
    with session_scope(db) as session:
        for layer in inherited_defaults(session, namespace):
            apply_defaults(data, [((), default) for default in layer])
        resolver = secret_resolver(session, namespace)
    seen: set[str] = set()

    def secret(name: str) -> str:
        value = resolver(name)
        seen.add(value)
        return value

    def masked(text: str) -> str:
        for value in sorted(seen, key=len, reverse=True):
            if value:
                text = text.replace(value, "***")
        return text

    try:
        address = render({key: data[key] for key in ADDRESS if key in data}, {"secret": secret})
        block = address.get("connection")
        connection = Connection.model_validate(block, context=RENDERED) if block is not None else None
        url = address.get("url")
        if url is not None and not isinstance(url, str):
            return ConnectionTestResult(False, "url must be a text")
        database = model.model_construct(id="connection_test", type=task["type"], url=url, connection=connection)
        if url is not None and connection is not None:
            return ConnectionTestResult(False, "give url or connection, not both")
        # The driver's own timeout bounds connecting; this one bounds the rest (a server that accepts and hangs).
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="connection-test")
        try:
            where = pool.submit(database.ping, TIMEOUT_SECONDS).result(TIMEOUT_SECONDS + 1)
        except concurrent.futures.TimeoutError:
            return ConnectionTestResult(False, f"no answer within {TIMEOUT_SECONDS:g} s")
        finally:
            pool.shutdown(wait=False)
    except (ExpressionError, TaskFailed) as exc:
        return ConnectionTestResult(False, masked(str(exc)))
    except ValueError as exc:  # pydantic's ValidationError of the connection block
        return ConnectionTestResult(False, masked(f"connection: {exc}"))
    except Exception as exc:
        return ConnectionTestResult(False, masked(f"{type(exc).__name__}: {exc}"))
    return ConnectionTestResult(True, masked(f"connected to {where}"))
