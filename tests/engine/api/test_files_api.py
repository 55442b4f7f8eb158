"""An execution's files over the real API: list, download whole and by range, previews of CSV, Parquet, JSON and
an image; an address of another execution or namespace, a hostile address or a huge row count is refused, and a
person who may not read the execution gets the same 404 as for a missing one. A share link reads them too."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from engine.identity import authz
from engine.services import sharing
from engine.storage import Address
from engine.storage.local import LocalStorage

pytestmark = pytest.mark.slow
YAML = {"content-type": "application/x-yaml"}
PASSWORD = "correct horse battery"
FLOW = "id: made\nnamespace: {namespace}\ntasks:\n  - {{id: make, type: log, message: making files}}\n"
CSV = b"day,amount\n" + b"".join(f"2026-01-{d:02d},{d * 10}\n".encode() for d in range(1, 31))


def parquet() -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(500)), "city": [f"city {i}" for i in range(500)]}), out)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 400), (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def run(api: httpx.Client, headers: dict, namespace: str) -> str:
    assert api.post("/flows", content=FLOW.format(namespace=namespace), headers={**YAML, **headers}).is_success
    started = api.post(f"/executions/trigger/{namespace}/made", params={"wait": "true"}, json={}, headers=headers)
    assert started.status_code == 201 and started.json()["state"] == "SUCCESS", started.text
    return started.json()["id"]


def put(home: Path, tmp: Path, namespace: str, execution_id: str, name: str, data: bytes) -> str:
    """A file under the execution's prefix, as a task's upload leaves it."""
    address = Address(namespace, "made", execution_id, "make", 1, name)
    source = tmp / "source"
    source.write_bytes(data)
    LocalStorage(home / "storage").put(address, source)
    return str(address)


def bearer(api: httpx.Client, username: str) -> dict[str, str]:
    client = httpx.Client(base_url=api.base_url, timeout=60)
    assert client.post("/auth/login", json={"username": username, "password": PASSWORD}).status_code == 200
    token = client.post("/tokens", json={"name": "tests"}).json()["token"]
    client.close()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def stored(api: httpx.Client, tmp_path: Path) -> dict:
    """Two executions in two namespaces with files, the administrator ``root`` and ``otto`` (no role)."""
    assert api.post("/auth/setup", json={"username": "root", "password": PASSWORD}).status_code == 201
    api.cookies.clear()
    root = bearer(api, "root")
    assert api.post("/users", json={"username": "otto", "password": PASSWORD}, headers=root).status_code == 201
    mine, other = run(api, root, "files.team"), run(api, root, "files.other")
    home = api.cluster.home
    addresses = {
        "csv": put(home, tmp_path, "files.team", mine, "out/sales.csv", CSV),
        "parquet": put(home, tmp_path, "files.team", mine, "cities.parquet", parquet()),
        "json": put(home, tmp_path, "files.team", mine, "rows.json", json.dumps([{"a": 1}, {"a": 2}]).encode()),
        "png": put(home, tmp_path, "files.team", mine, "chart.png", png()),
        "odd": put(home, tmp_path, "files.team", mine, 'we"ird;name\u00e9.txt', b"odd name\n"),
        "foreign": put(home, tmp_path, "files.other", other, "secret.csv", b"secret,data\n1,2\n"),
    }
    return {"root": root, "otto": bearer(api, "otto"), "mine": mine, "other": other, "addresses": addresses}


def test_list_download_whole_and_by_range_and_preview(api, stored):
    root, mine, addresses = stored["root"], stored["mine"], stored["addresses"]
    listed = api.get(f"/executions/{mine}/files", headers=root)
    assert listed.status_code == 200
    rows = {(f["taskId"], f["attempt"], f["name"], f["size"]) for f in listed.json()}
    assert ("make", 1, "out/sales.csv", len(CSV)) in rows and len(rows) == 5  # not the other execution's file
    assert {f["address"] for f in listed.json()} == {a for k, a in addresses.items() if k != "foreign"}

    url = f"/executions/{mine}/files/download"
    whole = api.get(url, params={"address": addresses["csv"]}, headers=root)
    assert whole.status_code == 200 and whole.content == CSV
    assert whole.headers["content-disposition"].startswith('attachment; filename="sales.csv"')
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["content-type"].startswith("text/csv")
    part = api.get(url, params={"address": addresses["csv"]}, headers={**root, "Range": "bytes=4-13"})
    assert part.status_code == 206 and part.content == CSV[4:14]
    assert part.headers["content-range"] == f"bytes 4-13/{len(CSV)}" and part.headers["content-length"] == "10"
    tail = api.get(url, params={"address": addresses["csv"]}, headers={**root, "Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == CSV[-5:]
    for bad in ("bytes=5000-6000", "bytes=9-3", "bytes=0-1,4-5", "lines=1-2", "bytes=-"):
        refused = api.get(url, params={"address": addresses["csv"]}, headers={**root, "Range": bad})
        assert refused.status_code == 416, bad
        assert refused.headers["content-range"] == f"bytes */{len(CSV)}"
    odd = api.get(url, params={"address": addresses["odd"]}, headers=root)
    assert odd.content == b"odd name\n"
    assert odd.headers["content-disposition"].startswith('attachment; filename="we_ird_name_.txt"')

    preview = f"/executions/{mine}/files/preview"
    csv = api.get(preview, params={"address": addresses["csv"], "rows": 3}, headers=root).json()
    assert (csv["kind"], csv["columns"], csv["rows"][0]) == ("table", ["day", "amount"], ["2026-01-01", "10"])
    assert csv["truncated"] and csv["totalRows"] == 30 and len(csv["rows"]) == 3
    table = api.get(preview, params={"address": addresses["parquet"], "rows": 2}, headers=root).json()
    assert table["columns"] == ["id", "city"] and table["types"] == ["int64", "string"]
    assert table["rows"] == [["0", "city 0"], ["1", "city 1"]] and table["totalRows"] == 500
    rows_json = api.get(preview, params={"address": addresses["json"]}, headers=root).json()
    assert rows_json["rows"] == [["1"], ["2"]] and not rows_json["truncated"]
    image = api.get(preview, params={"address": addresses["png"]}, headers=root).json()
    assert image["kind"] == "image" and image["image"].startswith("data:image/png;base64,")


def test_foreign_hostile_and_unreadable_requests_are_refused(api, stored):
    root, otto, mine, other = stored["root"], stored["otto"], stored["mine"], stored["other"]
    addresses = stored["addresses"]
    for route in ("download", "preview"):
        url = f"/executions/{mine}/files/{route}"
        # Another namespace's file through this execution: as missing, and not a byte of it.
        foreign = api.get(url, params={"address": addresses["foreign"]}, headers=root)
        assert foreign.status_code == 404 and b"secret,data" not in foreign.content
        same_namespace = addresses["csv"].replace(mine, other)
        assert api.get(url, params={"address": same_namespace}, headers=root).status_code == 404
        missing = addresses["csv"].replace("sales.csv", "nothing.csv")
        assert api.get(url, params={"address": missing}, headers=root).status_code == 404
        for hostile in (
            f"lanner://files.team/made/{mine}/make/1/../../../../other/x",
            f"lanner://files.team/made/{mine}/make/1//etc/passwd",
            "/etc/passwd",
            "file:///etc/passwd",
            "lanner://" + "a/" * 3000,
            f"lanner://files.team/made/{mine}/make/one/x",
        ):
            answer = api.get(url, params={"address": hostile}, headers=root)
            assert answer.status_code == 422, (hostile, answer.status_code, answer.text)
        assert api.get(url, headers=root).status_code == 422  # no address
        # Someone who may not read the execution: the same 404 as for a missing one.
        assert api.get(url, params={"address": addresses["csv"]}, headers=otto).status_code == 404
    assert api.get(f"/executions/{mine}/files", headers=otto).status_code == 404
    assert api.get("/executions/nope/files", headers=root).status_code == 404
    for rows in (0, -1, 10**9, "many"):
        answer = api.get(
            f"/executions/{mine}/files/preview", params={"address": addresses["csv"], "rows": rows}, headers=root
        )
        assert answer.status_code == 422, rows


def test_a_share_link_reads_its_execution_files_only(api, stored):
    mine, other = stored["mine"], stored["other"]
    link = sharing.create_link(api.cluster.db, authz.LOCAL, "execution", "files.team", mine)
    token = link.path.rsplit("/", 1)[-1]
    anonymous = httpx.Client(base_url=api.base_url, timeout=60)
    listed = anonymous.get(f"/share/{token}/files")
    assert listed.status_code == 200 and len(listed.json()) == 5
    assert mine not in listed.text  # a link's visitor gets no id of anything
    sales = next(f for f in listed.json() if f["name"] == "out/sales.csv")
    assert sales == {"path": "make/1/out/sales.csv", "taskId": "make", "attempt": 1, "name": "out/sales.csv",
                     "size": len(CSV)}  # fmt: skip
    url = f"/share/{token}/files/download"
    got = anonymous.get(url, params={"path": "make/1/out/sales.csv"})
    assert got.status_code == 200 and got.content == CSV
    part = anonymous.get(url, params={"path": "make/1/out/sales.csv"}, headers={"Range": "bytes=0-2"})
    assert part.status_code == 206 and part.content == CSV[:3]
    shown = anonymous.get(f"/share/{token}/files/preview", params={"path": "make/1/cities.parquet"})
    assert shown.json()["totalRows"] == 500 and shown.json()["address"] == ""
    for hostile in ("make/1/../../../" + other + "/make/1/secret.csv", "../x", "make/one/x", "make/1/", "/etc/passwd"):
        answer = anonymous.get(url, params={"path": hostile})
        assert answer.status_code == 422 and b"secret,data" not in answer.content, (hostile, answer.text)
    assert anonymous.get(url, params={"path": "make/1/nothing.csv"}).status_code == 404
    assert anonymous.get("/share/lnr_nothing/files").status_code == 404
    assert (
        anonymous.get("/share/lnr_nothing/files/download", params={"path": "make/1/out/sales.csv"}).status_code == 404
    )
    assert anonymous.get(f"/executions/{mine}/files").status_code == 401
