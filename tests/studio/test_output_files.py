"""The execution page's Outputs tab in a real browser: an execution's stored files with their task and size, a
preview table of a CSV and of a Parquet file, an image thumbnail, and a download (the API's streamed route, with
the studio's session cookie) whose bytes are the file's."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from engine.storage import Address
from engine.storage.local import LocalStorage
from tests.support.studio import api

pytestmark = pytest.mark.slow
YAML = {"content-type": "application/x-yaml"}
FLOW = "id: made\nnamespace: studio.files\ntasks:\n  - {id: extract, type: log, message: extracting}\n"
CSV = b"day,amount,shop\n" + b"".join(f"2026-01-{d:02d},{d * 10},north\n".encode() for d in range(1, 31))


def parquet() -> bytes:
    out = io.BytesIO()
    table = pa.table({"city": [f"city {i}" for i in range(300)], "people": list(range(0, 3000, 10))})
    pq.write_table(table, out, row_group_size=100)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 320), (20, 160, 90)).save(out, format="PNG")
    return out.getvalue()


def stored_execution(studio: dict, tmp_path: Path) -> str:
    """A real execution of a deployed flow, with files put under its prefix as a task's upload leaves them."""
    url = studio["url"] + "/api/v1"
    assert api(studio).post(f"{url}/flows", content=FLOW, headers=YAML, timeout=30).is_success
    started = api(studio).post(f"{url}/executions/trigger/studio.files/made", params={"wait": "true"}, json={})
    assert started.json()["state"] == "SUCCESS", started.text
    execution_id = started.json()["id"]
    storage = LocalStorage(Path(studio["home"]) / "storage")
    for name, data in (("out/sales.csv", CSV), ("cities.parquet", parquet()), ("chart.png", png())):
        source = tmp_path / "source"
        source.write_bytes(data)
        storage.put(Address("studio.files", "made", execution_id, "extract", 1, name), source)
    return execution_id


def show(page, name: str, kind: str) -> None:
    page.locator(f"tr.output-file[data-name='{name}']").get_by_role("button", name="Preview").click()
    page.wait_for_function(
        "([name, kind]) => { const p = document.querySelector('#file-preview');"
        " return p?.dataset.kind === kind && p.innerText.includes(name); }",
        arg=[name, kind],
        timeout=15_000,
    )


def test_the_outputs_tab_lists_previews_and_downloads_files(studio, page, tmp_path):
    execution_id = stored_execution(studio, tmp_path)
    page.goto(f"{studio['url']}/executions/{execution_id}")
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=30_000)
    page.click("#tab-outputs")
    page.wait_for_function("document.querySelectorAll('tr.output-file').length === 3", timeout=15_000)
    csv_row = page.locator("tr.output-file[data-name='out/sales.csv']")
    assert "extract" in csv_row.inner_text() and csv_row.locator(".file-size").inner_text() == f"{len(CSV)} B"

    show(page, "out/sales.csv", "table")
    preview = page.locator("#file-preview")
    assert [h.inner_text() for h in preview.locator("th").all()] == ["day", "amount", "shop"]
    first = preview.locator("tbody tr").first
    assert [c.inner_text() for c in first.locator("td").all()] == ["2026-01-01", "10", "north"]
    assert preview.locator("tbody tr").count() == 30
    assert page.locator("#file-preview-note").inner_text() == "30 of 30 rows"

    show(page, "cities.parquet", "table")
    assert [h.inner_text() for h in preview.locator("th").all()] == ["city", "people"]
    assert [c.inner_text() for c in preview.locator("tbody tr").nth(2).locator("td").all()] == ["city 2", "20"]
    assert preview.locator("tbody tr").count() == 50
    assert page.locator("#file-preview-note").inner_text() == "50 of 300 rows"

    show(page, "chart.png", "image")
    assert page.locator("#file-preview-image").get_attribute("src").startswith("data:image/png;base64,")
    assert page.locator("#file-preview-note").inner_text() == "thumbnail of a 640x320 image"

    with page.expect_download(timeout=15_000) as download:
        csv_row.get_by_role("link", name="Download").click()
    assert download.value.url.startswith(f"{studio['url']}/api/v1/executions/{execution_id}/files/download?")
    assert download.value.suggested_filename == "sales.csv"
    assert Path(download.value.path()).read_bytes() == CSV


EDITOR_FLOW = (
    "id: stored\nnamespace: studio.files\ntasks:\n  - {id: extract, type: sleep, duration: 4s}\n"
    "  - {id: report, type: log, message: done}\n"
)


def test_the_editor_panel_shows_the_selected_tasks_files_of_the_run(studio, page, tmp_path):
    answer = page.request.post(f"{studio['url']}/api/v1/flows", data=EDITOR_FLOW, headers=YAML)
    assert answer.ok, answer.text()
    page.goto(f"{studio['url']}/flows/studio.files/stored")
    page.locator(".lanner-node").first.wait_for(timeout=60_000)
    page.click("#run-button")
    page.click("#start-run")
    page.wait_for_function("document.querySelector('.lanner-node[data-state=\"RUNNING\"]') !== null", timeout=30_000)
    found = api(studio).get(
        f"{studio['url']}/api/v1/executions", params={"namespace": "studio.files", "flowId": "stored"}
    )
    execution_id = found.json()["results"][0]["id"]
    source = tmp_path / "rows.csv"
    source.write_bytes(b"a,b\n1,2\n")  # stored while the task runs, as its upload would be
    LocalStorage(Path(studio["home"]) / "storage").put(
        Address("studio.files", "stored", execution_id, "extract", 1, "rows.csv"), source
    )
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=30_000)
    page.locator(".react-flow__node[data-id='extract']").click()
    page.locator("tr.output-file[data-name='rows.csv']").wait_for(timeout=10_000)
    show(page, "rows.csv", "table")
    assert [c.inner_text() for c in page.locator("#file-preview tbody td").all()] == ["1", "2"]
    page.locator(".react-flow__node[data-id='report']").click()  # another task stored no file
    page.wait_for_function("document.querySelectorAll('tr.output-file').length === 0", timeout=10_000)


def test_a_share_links_visitor_previews_and_downloads_the_files(studio, page, browser, tmp_path):
    execution_id = stored_execution(studio, tmp_path)
    page.goto(f"{studio['url']}/executions/{execution_id}")
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=30_000)
    page.click("#share-button")
    page.click("#share-create")
    page.locator("#share-url").wait_for(timeout=10_000)
    link = page.locator("#share-url").inner_text().strip()
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # a stranger: no studio session
    try:
        visitor = context.new_page()
        visitor.goto(link)
        visitor.locator("#execution-state").wait_for(timeout=30_000)
        visitor.click("#tab-outputs")
        visitor.wait_for_function("document.querySelectorAll('tr.output-file').length === 3", timeout=15_000)
        show(visitor, "cities.parquet", "table")
        assert [h.inner_text() for h in visitor.locator("#file-preview th").all()] == ["city", "people"]
        with visitor.expect_download(timeout=15_000) as download:
            visitor.locator("tr.output-file[data-name='out/sales.csv']").get_by_role("link", name="Download").click()
        assert Path(download.value.path()).read_bytes() == CSV
        assert execution_id not in visitor.content()  # the execution's id is not given away
    finally:
        context.close()
