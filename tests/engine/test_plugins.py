"""A third-party task type, installed as a package with an entry point, validates and runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = """
from typing import ClassVar, Literal
from engine.tasks.base import Group, Task, registry

class Shout(Task):
    type: Literal["demo.shout"]
    text: str
    times: int = 1
    title: ClassVar[str] = "Shout"
    summary: ClassVar[str] = "Say it louder."
    group: ClassVar[Group] = Group.CORE

    def run(self, ctx):
        ctx.log("INFO", self.text.upper())
        return {"value": "!".join([self.text.upper()] * self.times)}
"""


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "lanner_demo-1.0.dist-info").mkdir(parents=True)
    (site / "lanner_demo.py").write_text(PLUGIN)
    (site / "lanner_demo-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: lanner-demo\nVersion: 1.0\n"
    )
    (site / "lanner_demo-1.0.dist-info" / "entry_points.txt").write_text("[lanner.tasks]\nshout = lanner_demo:Shout\n")
    return site


@pytest.mark.slow
def test_plugin_task_type_is_registered_validated_and_run(plugin_path: Path, tmp_path: Path):
    env = {
        **os.environ,
        "PYTHONPATH": f"{plugin_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "LANNER_HOME": str(tmp_path / "home"),
    }
    env.pop("LANNER_DATABASE_URL", None)
    env.pop("LANNER_REDIS_URL", None)
    lanner = [sys.executable, "-m", "engine"]
    schema = json.loads(
        subprocess.run([*lanner, "task", "schema", "demo.shout"], env=env, capture_output=True, check=True).stdout
    )
    assert schema["x-lanner"]["title"] == "Shout" and "text" in schema["required"]
    flow = tmp_path / "shout.yml"
    flow.write_text("id: shout\nnamespace: plugins\ntasks:\n  - {id: s, type: demo.shout, text: hey, times: 2}\n")
    done = subprocess.run([*lanner, "run", str(flow), "--json"], env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    document = json.loads(done.stdout)
    assert document["state"] == "SUCCESS" and document["taskRuns"][0]["outputs"] == {"value": "HEY!HEY"}
    bad = tmp_path / "bad.yml"
    bad.write_text("id: shout\nnamespace: plugins\ntasks:\n  - {id: s, type: demo.shout, txt: hey}\n")
    invalid = subprocess.run([*lanner, "flow", "validate", str(bad)], env=env, capture_output=True)
    assert invalid.returncode == 1 and b"unknown property 'txt' (did you mean 'text'?)" in invalid.stderr
