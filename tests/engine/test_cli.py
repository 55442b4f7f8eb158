"""The ``lanner`` command, run as a real process against a real SQLite file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "invalid"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_validate_examples_passes(lanner):
    done = lanner("flow", "validate", str(ROOT / "examples"))
    assert b"0 invalid" in done.stdout


def test_validate_reports_every_fixture_at_its_line_and_column(lanner):
    done = lanner("flow", "validate", str(FIXTURES), check=False)
    assert done.returncode == 1
    errors = done.stderr.decode()
    for fixture in sorted(FIXTURES.glob("*.yml")):
        for line in fixture.read_text().splitlines():
            if line.startswith("# expect: "):
                position, message = line[len("# expect: ") :].split(" ", 1)
                assert f"{fixture}:{position}: " in errors, (fixture.name, position)
                assert message in errors


def test_validate_json(lanner):
    done = lanner("flow", "validate", "--json", str(FIXTURES / "07_unknown_task_type.yml"), check=False)
    (problem,) = json.loads(done.stdout)
    assert (problem["line"], problem["column"]) == (6, 11) and "did you mean 'http.request'" in problem["message"]


def test_deploy_twice_then_change_then_show_byte_for_byte(lanner, tmp_path: Path):
    flow_file = tmp_path / "hello.yml"
    original = (ROOT / "examples" / "hello.yml").read_bytes().replace(b"\n", b"\r\n")  # CRLF must survive
    flow_file.write_bytes(original)
    assert b"created tutorial/hello (revision 1)" in lanner("flow", "deploy", str(flow_file)).stdout
    assert b"unchanged tutorial/hello (revision 1)" in lanner("flow", "deploy", str(flow_file)).stdout
    changed = original.replace(b"defaults: world", b"defaults: Lanner")
    flow_file.write_bytes(changed)
    assert b"updated tutorial/hello: revision 1 -> 2 (+1 -1 lines)" in lanner("flow", "deploy", str(flow_file)).stdout
    assert lanner("flow", "show", "tutorial", "hello", "--revision", "1").stdout == original
    assert lanner("flow", "show", "tutorial", "hello").stdout == changed
    revisions = lanner("flow", "revisions", "tutorial", "hello").stdout.decode().splitlines()
    assert [line.split()[0] for line in revisions] == ["1", "2"]


def test_deploy_is_all_or_nothing(lanner, tmp_path: Path):
    shutil.copy(ROOT / "examples" / "hello.yml", tmp_path / "good.yml")
    shutil.copy(FIXTURES / "12_unknown_depends_on.yml", tmp_path / "bad.yml")
    done = lanner("flow", "deploy", str(tmp_path / "good.yml"), str(tmp_path / "bad.yml"), check=False)
    assert done.returncode == 1 and b"nothing deployed" in done.stderr and b"bad.yml:10:17:" in done.stderr
    assert b"no flows" in lanner("flow", "list").stdout


def test_list_export_and_redeploy_export_is_unchanged(lanner, tmp_path: Path):
    lanner("flow", "deploy", str(ROOT / "examples"))
    listed = json.loads(lanner("flow", "list", "--namespace", "acme", "--json").stdout)
    assert [(r["namespace"], r["id"]) for r in listed] == [
        ("acme.ops", "fan_out"),
        ("acme.ops", "on_order"),
        ("acme.ops", "routing"),
        ("acme.sales", "daily_sales"),
        ("acme.sales", "daily_sales_pandas"),
    ]
    lanner("flow", "export", "acme", str(tmp_path / "out"))
    exported = tmp_path / "out" / "acme.sales" / "daily_sales.yml"
    assert exported.read_bytes() == (ROOT / "examples" / "acme" / "daily_sales.yml").read_bytes()
    again = lanner("flow", "deploy", str(tmp_path / "out")).stdout.decode()
    assert again.count("unchanged") == 5 and "updated" not in again


def test_graph_prints_json(lanner):
    graph = json.loads(lanner("flow", "graph", str(ROOT / "examples" / "acme" / "fan_out.yml")).stdout)
    assert {"source": "orders", "target": "join", "relation": "dependency", "label": None} in graph["edges"]


def test_errors_go_to_stderr_with_non_zero_exit(lanner):
    for args in (["flow", "show", "nope", "nope"], ["flow", "validate", "missing.yml"], ["task", "schema", "lgo"]):
        done = lanner(*args, check=False)
        assert done.returncode != 0 and done.stderr.startswith(b"error: ") and not done.stdout
    assert b"did you mean 'log'" in lanner("task", "schema", "lgo", check=False).stderr


def test_help_on_every_command(lanner):
    commands = [
        [],
        ["flow"],
        ["flow", "validate"],
        ["flow", "deploy"],
        ["flow", "list"],
        ["flow", "export"],
        ["flow", "show"],
        ["flow", "revisions"],
        ["flow", "delete"],
        ["flow", "graph"],
        ["task", "types"],
        ["task", "schema"],
        ["server"],
    ]
    for command in commands:
        done = lanner(*command, "--help")
        assert b"Usage: " in done.stdout and len(done.stdout.splitlines()) > 3, command
