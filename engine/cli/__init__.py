"""The ``lanner`` command line: the root command here, one module per command group.

- ``flows``: ``flow ...`` and ``task ...``        - ``executions``: ``run`` and ``execution ...``
- ``triggers``: ``trigger ...``                   - ``namespaces``: ``secret ...``, ``variable ...``, ``namespace ...``
- ``kv``: ``kv ...`` (a namespace's KV store)
- ``retention``: ``purge``
- ``users``: ``user ...`` and ``token ...``        - ``servers``: ``server``, ``studio``, ``api``, ``executor``,
                                                    ``worker``, ``scheduler``
- ``target``: local database or a server (--server); ``output``: the views and their one printer;
  ``arguments``: reading what is typed.
"""

from __future__ import annotations

import click

from engine.cli import blueprints, executions, flows, kv, namespaces, retention, servers, triggers, users
from engine.cli.output import fail
from engine.config import reset_settings

# What a refused action raises: not found (LookupError), not allowed now or invalid (ValueError, e.g.
# InvalidTransition, ExecutionConflict), not allowed to this person (PermissionError).
REFUSALS = (LookupError, ValueError, PermissionError)


class LannerGroup(click.Group):
    """The root command: a refusal from any command is one ``error:`` line on stderr and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except REFUSALS as exc:
            fail(str(exc).strip("'\"") or type(exc).__name__)


@click.group(cls=LannerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lanner")
@click.option(
    "--server",
    envvar="LANNER_SERVER",
    default=None,
    metavar="URL",
    help="Talk to this Lanner server's API (flow deploy/list/show, run, execution list/show/kill).",
)
@click.option("--token", envvar="LANNER_TOKEN", default=None, help="API token for --server (better: LANNER_TOKEN).")
@click.pass_context
def main(ctx: click.Context, server: str | None, token: str | None) -> None:
    """Lanner: flows declared in YAML, drawn in a visual studio, run by distributed workers.

    Configuration comes from the environment: LANNER_HOME (data folder, default ./.lanner),
    LANNER_DATABASE_URL (default: SQLite in LANNER_HOME) and LANNER_REDIS_URL (default: an
    embedded Redis started under LANNER_HOME).

    With --server URL (or LANNER_SERVER) and a token (LANNER_TOKEN), the commands that support it act
    on that server through its API, with the token's rights; the others refuse to run.
    """
    reset_settings()  # each command reads the environment it starts with (a test runs many in one process)
    ctx.obj = {"server": server, "token": token}


for command in (
    flows.flow,
    blueprints.blueprint,
    flows.task,
    executions.run_command,
    retention.purge_command,
    executions.execution,
    triggers.trigger,
    namespaces.secret,
    namespaces.variable,
    namespaces.namespace,
    kv.kv,
    users.user,
    users.token,
    servers.server_command,
    servers.studio_command,
    servers.api_command,
    servers.executor_command,
    servers.worker_command,
    servers.scheduler_command,
    servers.trigger_listener_command,
):
    main.add_command(command)

__all__ = ["main"]
