"""A FILE input in the editor's Run dialog is a file picker: the chosen file is stored for the flow, as the API
stores a multipart upload, and the run reads it (a path typed as text is refused by the server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.studio.conftest import api

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
        "document.querySelector('.run-file-name')?.innerText === 'numbers.csv'", timeout=15_000
    )  # stored on the server before the run is asked for
    page.click("#start-run")
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=30_000)
    page.wait_for_function(
        "document.querySelector('#log-panel')?.innerText.includes('uploaded-from-the-browser,42')", timeout=10_000
    )
    stored = list((Path(studio["home"]) / "uploads" / "studio.files" / "reads_a_file").glob("*/numbers.csv"))
    assert [path.read_text() for path in stored] == [chosen.read_text()]
