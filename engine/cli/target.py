"""Where a command acts: the local database and Redis, or a Lanner server through its API (``--server``).

Each action in a command group asks ``is_remote()`` once and then uses ``remote()`` (a client of the server)
or ``session()``/``connections()`` (the local database and Redis). Commands that only work locally refuse to
run with a server configured, instead of quietly changing a local database the person did not mean to touch.
"""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Iterator

import click
from sqlalchemy import Engine
from sqlmodel import Session

from engine.cli.client import Client, ServerError
from engine.cli.output import fail
from engine.config import Settings, load_settings
from engine.runtime.connection import connect, redis_url
from engine.services.connections import Connections, open_database, session_scope


def server() -> tuple[str, str | None] | None:
    """The server (URL, token) given by --server/LANNER_SERVER, or None to work on the local database."""
    ctx = click.get_current_context(silent=True)
    options = (ctx.find_root().obj or {}) if ctx else {}
    url = (options.get("server") or "").strip()
    return (url, options.get("token")) if url else None


def is_remote() -> bool:
    return server() is not None


def local_only() -> None:
    if is_remote():
        fail("this command works on the local database only; unset LANNER_SERVER (or --server) to use it")


@contextlib.contextmanager
def remote() -> Iterator[Client]:
    """A client of the configured server; a refusal of the server is one ``error:`` line and exit 1."""
    url, token = server() or ("", None)
    try:
        with Client(url, token) as client:
            yield client
    except ServerError as exc:
        for problem in exc.details.get("problems") or []:  # an invalid flow: the same lines as locally
            click.echo(f"{problem['file']}:{problem['line']}:{problem['column']}: {problem['message']}", err=True)
        fail(str(exc))


def database() -> Engine:
    """The local database (migrated on first use); refused when a server is configured."""
    local_only()
    return open_database(load_settings().database_url)


@contextlib.contextmanager
def session() -> Iterator[Session]:
    """A session on the local database that commits when the block ends cleanly: for the workspace commands
    (``namespace``, ``user``) until they call engine/services like the others."""
    with session_scope(database()) as opened:
        yield opened


@contextlib.contextmanager
def connections() -> Iterator[tuple[Connections, Settings, str]]:
    """Database and Redis for a command (an embedded Redis is reused if one runs, else started), with the
    settings and the Redis URL."""
    local_only()
    settings = load_settings()
    with redis_url(settings) as url:
        yield Connections(open_database(settings.database_url), connect(url)), settings, url


def cli_actor() -> str:
    """Who the audit trail names for a command: the machine account that ran it (":" keeps it apart from users)."""
    return f"cli:{getpass.getuser()}"[:64]


def author() -> str:
    """Who deploys or deletes a flow locally: the machine account's name, as the revision history shows it."""
    return getpass.getuser()
