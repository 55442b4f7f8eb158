"""axe-core (the npm package, pinned in the Makefile) run inside a Playwright page: its serious and critical
accessibility violations, worded for an assertion message."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT

AXE = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def _version() -> str:
    found = re.search(r"^AXE_VERSION\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert found, "the Makefile pins AXE_VERSION"
    return found.group(1)


def axe_script() -> Path:
    """axe.min.js, installed like ``make axe`` does when missing; the test is skipped only without npm."""
    if AXE.exists():
        return AXE
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("no npm to install axe-core (make test installs it into .tools)")
    subprocess.run(
        [npm, "install", "--prefix", str(ROOT / ".tools"), "--no-audit", "--no-fund", "--save-exact",
         f"axe-core@{_version()}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return AXE


def blocking_violations(page) -> list[str]:
    """Run axe on the page as it is now: one line per serious or critical violation (rule, impact, nodes)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_script()))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for violation in result["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        # One line per distinct reason (a contrast's colours, a missing name), naming the elements it holds for.
        reasons: dict[str, list[str]] = {}
        for node in violation["nodes"]:
            why = " ".join(node["failureSummary"].split()).removeprefix("Fix any of the following: ")[:240]
            reasons.setdefault(why, []).append(" ".join(map(str, node["target"])))
        for why, targets in reasons.items():
            shown = ", ".join(targets[:6]) + (f" (+{len(targets) - 6} more)" if len(targets) > 6 else "")
            lines.append(f"{violation['id']} ({violation['impact']}): {shown} -- {why}")
    return lines
