"""``lanner purge``: delete ended executions older than an age, with their logs and files (services/retention.py).

Locally it acts on the local database and storage as the machine's administrator; with ``--server`` it asks the
server (``POST /api/v1/executions/purge``), which allows it to administrators only.
"""

from __future__ import annotations

import click

from engine.cli import target
from engine.cli.output import fail, print_json
from engine.identity.authz import LOCAL


@click.command("purge")
@click.option("--older-than", "older_than", required=True, metavar="DURATION", help="Age such as 30d, 12h or PT2M.")
@click.option("--namespace", "-n", default=None, help="Only this namespace and those below it.")
@click.option("--flow", "flow_id", default=None, help="Only this flow's executions.")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON document.")
def purge_command(older_than: str, namespace: str | None, flow_id: str | None, dry_run: bool, as_json: bool) -> None:
    """Delete ended executions that ended more than --older-than ago, with their task runs, logs and files.

    Running executions are never deleted. Flows' own `retention` does not matter here: the age given does.
    """
    from engine.services import retention  # loaded by this command only: `lanner --help` stays light

    try:
        retention.parse_age(older_than)  # a clear refusal before touching the database or the server
    except retention.InvalidAge as exc:
        fail(str(exc))
    if target.is_remote():
        with target.remote() as client:
            counts = client.purge(older_than, namespace=namespace, flow_id=flow_id, dry_run=dry_run)
    else:
        report = retention.purge(
            target.database(), LOCAL, older_than, namespace=namespace, flow_id=flow_id, dry_run=dry_run
        )
        counts = {"executions": report.executions, "logs": report.logs, "files": report.files, "dryRun": dry_run}
    if as_json:
        print_json(counts)
        return
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {counts['executions']} execution(s), {counts['logs']} log line(s), {counts['files']} file(s)")
