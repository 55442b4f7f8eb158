"""SQL connectors' throughput: rows per second of the SQL tasks on this machine's PostgreSQL, next to ``psql``.

Sections (each prints its figures; nothing here asserts a threshold):

- ``query_store``: ``postgresql.query`` with ``fetch: STORE`` of ``--rows`` generated rows (4 columns: int, text,
  numeric, date) as CSV and as Parquet, run in a fresh process each so its peak RSS is the task's; next to
  ``psql -c "\\copy (SELECT ...) TO file CSV"``, the physical reference (the server's own CSV, no Python), and
  ``postgresql.export`` CSV (COPY through psycopg).
- ``load``: ``postgresql.load`` of the same number of rows (5 columns: int, text, date, float, int) from a stored CSV
  and a stored Parquet file into a new table, in a fresh process each (its peak RSS), next to
  ``psql -c "\\copy t FROM file CSV HEADER"`` on the same CSV.

A private database is created on the server (``--url``, default the tests' PostgreSQL) and dropped at the end.

Run: .venv/bin/python bench/sql.py [--rows 1000000] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy  # noqa: E402

SELECT = (
    "SELECT i AS id, 'store ' || (i % 97) AS store, (i * 1.25)::numeric(12, 2) AS amount,"
    " DATE '2026-01-01' + (i % 365) AS day FROM generate_series(1, {rows}) AS i"
)

# Runs one task in its own process: the figures are that process's peak RSS and the task's own time.
TASK_SCRIPT = """
import json, resource, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from engine.storage.local import LocalStorage
from engine.tasks import registry
from engine.tasks.context import RunContext

root = Path(tempfile.mkdtemp())
(root / "work").mkdir()
ctx = RunContext(task_id="t", execution_id="e", folder=root / "work", storage=LocalStorage(root / "s"),
                 is_killed=lambda: False)
properties = json.loads(sys.argv[2])
if len(sys.argv) > 3:  # a file the task reads, kept in storage first as an earlier task would have
    properties["from"] = ctx.store_file(Path(sys.argv[3]), Path(sys.argv[3]).name)
task = registry.get(properties["type"]).model_validate({"id": "t", **properties})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
out = task.run(ctx)
seconds = time.perf_counter() - start
size = sum(p.stat().st_size for p in (root / "s").rglob("*") if p.is_file())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": out["rows"], "seconds": seconds, "peak_rss_mb": peak, "before_mb": before, "bytes": size}))
"""


def run_task(properties: dict, stored: Path | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", TASK_SCRIPT, str(ROOT), json.dumps(properties), *([str(stored)] if stored else [])],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def psql_copy(url: sqlalchemy.URL, sql: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "out.csv"
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        start = time.perf_counter()
        subprocess.run(
            ["psql", dsn, "-q", "-c", f"\\copy ({sql}) TO '{target}' CSV HEADER"], check=True, capture_output=True
        )
        return {"seconds": time.perf_counter() - start, "bytes": target.stat().st_size}


def line(name: str, rows: int, figures: dict) -> None:
    rate = rows / figures["seconds"]
    peak = (
        f"{figures['peak_rss_mb']:5.0f} MB peak RSS (+{figures['peak_rss_mb'] - figures['before_mb']:3.0f})"
        if "peak_rss_mb" in figures
        else " " * 26
    )
    print(f"  {name:34s} {figures['seconds']:7.2f} s {rate:12,.0f} rows/s {peak} {figures['bytes'] / 1e6:8.1f} MB file")


def query_store(url: sqlalchemy.URL, rows: int) -> None:
    """postgresql.query STORE (CSV, Parquet) and postgresql.export CSV next to psql's \\copy."""
    sql = SELECT.format(rows=rows)
    dsn = url.render_as_string(hide_password=False)
    print(f"query_store: {rows:,} rows")
    line("psql \\copy (reference)", rows, psql_copy(url, sql))
    for fmt in ("CSV", "PARQUET"):
        figures = run_task({"type": "postgresql.query", "url": dsn, "sql": sql, "fetch": "STORE", "format": fmt})
        assert figures["rows"] == rows, figures
        line(f"postgresql.query STORE {fmt}", rows, figures)
    figures = run_task({"type": "postgresql.export", "url": dsn, "sql": sql, "format": "CSV"})
    line("postgresql.export CSV (COPY)", rows, figures)


def sales_files(folder: Path, rows: int) -> dict[str, Path]:
    """``rows`` generated rows as CSV and as Parquet, written a chunk at a time."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("store", pa.string()),
            ("day", pa.date32()),
            ("amount", pa.float64()),
            ("qty", pa.int32()),
        ]
    )
    paths = {"CSV": folder / "sales.csv", "PARQUET": folder / "sales.parquet"}
    csv_writer, parquet_writer = pa_csv.CSVWriter(paths["CSV"], schema), pq.ParquetWriter(paths["PARQUET"], schema)
    for start in range(0, rows, 100_000):
        ids = list(range(start, min(start + 100_000, rows)))
        batch = pa.RecordBatch.from_pydict(
            {
                "id": ids,
                "store": [f"store {i % 97}" for i in ids],
                "day": pa.array([i % 365 + 20_000 for i in ids], pa.int32()).cast(pa.date32()),
                "amount": [i * 0.25 for i in ids],
                "qty": [i % 17 for i in ids],
            },
            schema=schema,
        )
        csv_writer.write_batch(batch)
        parquet_writer.write_batch(batch)
    csv_writer.close()
    parquet_writer.close()
    return paths


def load(url: sqlalchemy.URL, rows: int) -> None:
    """postgresql.load from a stored CSV and Parquet file next to psql's \\copy FROM the same CSV."""
    dsn = url.render_as_string(hide_password=False)
    print(f"load: {rows:,} rows")
    with tempfile.TemporaryDirectory() as folder:
        files = sales_files(Path(folder), rows)
        engine = sqlalchemy.create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                sqlalchemy.text("CREATE TABLE psql_copy (id BIGINT, store TEXT, day DATE, amount FLOAT8, qty INT)")
            )
        engine.dispose()
        libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
        start = time.perf_counter()
        subprocess.run(
            ["psql", libpq, "-q", "-c", f"\\copy psql_copy FROM '{files['CSV']}' CSV HEADER"],
            check=True,
            capture_output=True,
        )
        reference = {"seconds": time.perf_counter() - start, "bytes": files["CSV"].stat().st_size}
        line("psql \\copy FROM (reference)", rows, reference)
        for fmt, path in files.items():
            properties = {"type": "postgresql.load", "url": dsn, "table": f"sales_{fmt.lower()}"}
            figures = run_task(properties, stored=path) | {"bytes": path.stat().st_size}
            assert figures["rows"] == rows, figures
            line(f"postgresql.load {fmt}", rows, figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--url", default=os.environ.get("LANNER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    args = parser.parse_args()
    admin = sqlalchemy.create_engine(args.url, isolation_level="AUTOCOMMIT")
    name = f"lanner_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin.url.set(database=name)
        query_store(url, args.rows)
        load(url, args.rows)
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
