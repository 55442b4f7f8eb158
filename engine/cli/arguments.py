"""Reading what is typed on the command line: KEY=VALUE pairs, NAMESPACE/FLOW_ID, namespaces, flow files."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from engine.cli.output import exit_invalid, fail
from engine.flows.loader import LoadResult, load_flow, read_source
from engine.flows.model import Flow
from engine.flows.spec import NAMESPACE_PATTERN

FLOW_SUFFIXES = (".yml", ".yaml")


def pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    """``-i KEY=VALUE`` options as a dict; ``what`` names them in the refusal."""
    found = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"{what} '{item}' is not KEY=VALUE")
        found[key] = value
    return found


def flow_ref(ref: str) -> tuple[str, str]:
    """NAMESPACE/FLOW_ID as (namespace, flow id)."""
    namespace, sep, flow_id = ref.rpartition("/")
    if not sep or not namespace or not flow_id:
        fail(f"'{ref}' is not NAMESPACE/FLOW_ID")
    return namespace, flow_id


def namespace_name(namespace: str) -> str:
    if not re.fullmatch(NAMESPACE_PATTERN, namespace) or len(namespace) > 150:
        fail(f"invalid namespace {namespace!r}")
    return namespace


def moment(text: str) -> dt.datetime:
    """An ISO date-time; UTC unless it carries an offset."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(f"'{text}' is not an ISO date-time")
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def flow_files(paths: tuple[str, ...]) -> list[Path]:
    """Files named on the command line, and the flow files (.yml, .yaml) found under named folders."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in FLOW_SUFFIXES and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            fail(f"{raw}: no such file or folder")
    return found


def load_all(paths: tuple[str, ...]) -> list[tuple[Path, str, LoadResult]]:
    """Every flow file named (or under a named folder): its path, its text and what loading it found."""
    loaded = []
    for path in flow_files(paths):
        try:
            source = read_source(path)
        except UnicodeDecodeError as exc:
            fail(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        loaded.append((path, source, load_flow(source, str(path))))
    return loaded


def valid_flow(source: str, name: str) -> Flow:
    """The flow in ``source``; when it is invalid, its problems are printed and the command exits 1."""
    result = load_flow(source, name)
    if not result.ok:
        exit_invalid(sorted(result.problems))
    return result.flow


def local_files(flow: Flow, given: dict[str, str]) -> dict[str, Path]:
    """The local files named for the flow's FILE inputs (``-i data=./local.csv``)."""
    return {i.id: Path(given[i.id]).expanduser() for i in flow.inputs if i.kind == "FILE" and given.get(i.id)}
