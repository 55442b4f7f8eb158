"""``lanner user ...`` and ``lanner token ...``: people, their roles on namespaces, and their API tokens."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from engine.cli import target
from engine.cli.output import fail
from engine.core.durations import parse_duration
from engine.identity import lifetimes, tokens, users
from engine.identity.authz import LOCAL
from engine.identity.policy import Role
from engine.services import people

# The command line works on the local database as the machine's administrator.
MACHINE = LOCAL


@contextmanager
def _refusals_as_one_line() -> Iterator[None]:
    """A missing user or token, or a request the rules refuse: one ``error:`` line and exit 1."""
    try:
        yield
    except (users.UserNotFound, tokens.TokenNotFound) as exc:
        fail(str(exc).strip("'\""))
    except users.UserError as exc:
        fail(str(exc))


def _people(action: Callable[..., Any], *args: Any, **options: Any) -> Any:
    """Call a ``people`` service on the local database as the machine, audited as the command line."""
    with _refusals_as_one_line():
        return action(target.database(), MACHINE, *args, actor=target.cli_actor(), **options)


@click.group()
def user() -> None:
    """Create users and give them roles on namespaces (a role on acme also holds on acme.sales)."""


@user.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="A global administrator: everything, everywhere, and user management.")
@click.option("--display-name", default=None, help="The name the studio shows.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def user_create(username: str, admin: bool, display_name: str | None, password_stdin: bool) -> None:
    """Create a user; asks for the password twice unless --password-stdin is given."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    _people(people.create_user, username, password, display_name=display_name, is_admin=admin)
    click.echo(f"created {'administrator' if admin else 'user'} {username}")


@user.command("list")
def user_list() -> None:
    """Every user with their roles."""
    with _refusals_as_one_line():
        found = people.list_users(target.database(), MACHINE)
    if not found:
        click.echo("no users")
    for account in found:
        flags = ("admin " if account.is_admin else "") + ("disabled " if account.disabled else "")
        last = account.last_login_at.isoformat(timespec="seconds") if account.last_login_at else "never"
        granted = ", ".join(f"{m.namespace}={m.role.value}" for m in account.memberships) or "-"
        click.echo(f"{account.username:<20} {flags:<15} last login {last:<25} {granted}")


@user.command("grant")
@click.argument("username")
@click.argument("namespace")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def user_grant(username: str, namespace: str, role: str) -> None:
    """Give USERNAME ROLE on NAMESPACE and the namespaces below it (replaces their role there)."""
    _people(people.grant, username, namespace, role)
    click.echo(f"{username} is {role} on {namespace}")


@user.command("revoke")
@click.argument("username")
@click.argument("namespace")
def user_revoke(username: str, namespace: str) -> None:
    """Take away USERNAME's role on exactly NAMESPACE (roles on its parents still apply)."""
    if not _people(people.remove_membership, username, namespace):
        fail(f"{username} has no role on {namespace}")
    click.echo(f"{username} has no more role on {namespace}")


@user.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """Stop USERNAME signing in and their tokens working (nothing is deleted)."""
    _set_disabled(username, True)


@user.command("enable")
@click.argument("username")
def user_enable(username: str) -> None:
    """Let a disabled user sign in again."""
    _set_disabled(username, False)


def _set_disabled(username: str, disabled: bool) -> None:
    _people(people.set_disabled, username, disabled)
    click.echo(f"{'disabled' if disabled else 'enabled'} {username}")


@click.group()
def token() -> None:
    """API tokens: what programs send instead of a password (Authorization: Bearer lnr_...)."""


@token.command("create")
@click.argument("username")
@click.argument("name")
@click.option("--expires", default=None, help="Lifetime, like 30d or 12h (default: until revoked).")
def token_create(username: str, name: str, expires: str | None) -> None:
    """Make a token for USERNAME and print it: it is shown this once only."""
    try:
        expires_at = lifetimes.now() + parse_duration(expires) if expires else None
    except ValueError as exc:
        fail(str(exc))
    made = _people(people.create_token, name, expires_at=expires_at, username=username)
    until = expires_at.isoformat(timespec="seconds") if expires_at else "revoked"
    click.echo(f"token {made.id} for {username} ({name}), valid until {until}; it will not be shown again:", err=True)
    click.echo(made.token)


@token.command("list")
@click.argument("username")
def token_list(username: str) -> None:
    """USERNAME's tokens (their first characters only)."""
    with _refusals_as_one_line():
        found = people.tokens_of(target.database(), MACHINE, username)
    for row in found:
        status = "valid" if row.active else row.status
        used = row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "never used"
        click.echo(f"{row.id:>5}  {row.prefix}...  {row.name:<20} {status:<8} {used}")


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token by its id (see ``lanner token list``)."""
    _people(people.revoke_token, token_id, any_owner=True)
    click.echo(f"revoked token {token_id}")
