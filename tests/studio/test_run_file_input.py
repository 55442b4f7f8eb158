"""A FILE input in the editor's Run dialog is a file picker: the chosen file is stored for the flow, as the API
stores a multipart upload, and the run reads it (a path typed as text is refused by the server)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.studio import api

pytestmark = pytest.mark.slow

YAML = {"content-type": "application/x-yaml"}
FLOW = (
    "id: reads_a_file\nnamespace: studio.files\ninputs:\n  - {id: data, type: FILE}\n"
    "tasks:\n  - {id: show, type: shell, commands: ['cat {{ inputs.data }}']}\n"
)


def test_a_file_chosen_in_the_run_dialog_is_uploaded_and_read_by_the_run(studio, page, tmp_path):
    assert api(studio).post("/api/v1/flows", content=FLOW, headers=YAML).is_success
    chosen = tmp_path / "numbers.csv"
    chosen.write_text("first,second\nuploaded-from-the-browser,42\n")
    page.goto(f"{studio['url']}/flows/studio.files/reads_a_file")
    page.locator(".lanner-node").first.wait_for(timeout=60_000)
    page.click("#run-button")
    page.get_by_role("dialog").locator("input[type=file]").set_input_files(str(chosen))
    page.wait_for_function(
        "document.querySelector('[role=dialog] .file-name')?.innerText === 'numbers.csv'", timeout=15_000
    )  # stored on the server before the run is asked for
    page.click("#start-run")
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=30_000)
    page.wait_for_function(
        "document.querySelector('#log-panel')?.innerText.includes('uploaded-from-the-browser,42')", timeout=10_000
    )
    stored = list((Path(studio["home"]) / "uploads" / "studio.files" / "reads_a_file").glob("*/numbers.csv"))
    assert [path.read_text() for path in stored] == [chosen.read_text()]


PAUSING = (
    "id: approves_a_file\nnamespace: studio.files\ntasks:\n"
    "  - id: approve\n    type: pause\n    onResume: [{id: evidence, type: FILE}]\n"
    "  - {id: show, type: shell, commands: ['cat {{ outputs.approve.resumed.evidence }}']}\n"
)


def _state(studio, execution_id: str) -> str:
    return api(studio).get(f"/api/v1/executions/{execution_id}").json()["state"]


def test_a_file_chosen_in_the_resume_form_is_uploaded_and_read_after_the_pause(studio, page, tmp_path):
    admin = api(studio)
    assert admin.post("/api/v1/flows", content=PAUSING, headers=YAML).is_success
    execution_id = admin.post("/api/v1/executions/trigger/studio.files/approves_a_file", json={}).json()["id"]
    deadline = time.monotonic() + 30
    while _state(studio, execution_id) != "PAUSED" and time.monotonic() < deadline:
        time.sleep(0.2)
    chosen = tmp_path / "evidence.txt"
    chosen.write_text("signed-off-in-the-browser\n")
    page.goto(f"{studio['url']}/executions/{execution_id}")
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'PAUSED'", timeout=60_000)
    page.click("#tab-actions")
    page.locator(".file-drop input[type=file]").set_input_files(str(chosen))
    page.wait_for_function(
        "document.querySelector('.file-drop .file-name')?.innerText === 'evidence.txt'", timeout=15_000
    )
    page.click("#resume-button")
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=30_000)
    lines = admin.get(f"/api/v1/logs/{execution_id}").json()
    assert any("signed-off-in-the-browser" in line["message"] for line in lines), lines
