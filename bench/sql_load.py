"""postgresql.load throughput: rows/s loading 1,000,000 rows from a stored CSV and a stored Parquet file into a new
table of a private PostgreSQL database, next to ``psql -c "\\copy t FROM file CSV HEADER"`` on the same CSV, and the
peak RSS of the process running the task (each load runs in a fresh process, so its peak is its own). Prints JSON.

Run: .venv/bin/python bench/sql_load.py [--rows 1000000] [--batch-size 10000]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from tests.support.postgres import POSTGRES_URL, postgres_admin  # noqa: E402


def _files(folder: Path, rows: int) -> dict[str, Path]:
    """The same rows as CSV and Parquet, written a chunk at a time."""
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
    csv_path, parquet_path = folder / "sales.csv", folder / "sales.parquet"
    csv_writer, parquet_writer = pa_csv.CSVWriter(csv_path, schema), pq.ParquetWriter(parquet_path, schema)
    stores = ["paris", "lyon", "nice", "lille", "nantes"]
    chunk = 100_000
    for start in range(0, rows, chunk):
        ids = list(range(start, min(start + chunk, rows)))
        batch = pa.RecordBatch.from_pydict(
            {
                "id": ids,
                "store": [stores[i % 5] for i in ids],
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
    return {"csv": csv_path, "parquet": parquet_path}


def _child(path: str, url: str, table: str, batch_size: int) -> None:
    """Run postgresql.load once in this process and print seconds, rows and this process' peak RSS (MB)."""
    from engine.storage.local import LocalStorage
    from engine.tasks import registry
    from engine.tasks.context import RunContext

    folder = Path(tempfile.mkdtemp(prefix="lanner-load-"))
    context = RunContext("load", "bench", folder / "work", LocalStorage(folder / "storage"), lambda: False)
    (folder / "work").mkdir()
    address = context.store_file(Path(path), Path(path).name)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    task = registry.get("postgresql.load").model_validate(
        {"id": "load", "type": "postgresql.load", "url": url, "from": address, "table": table, "batchSize": batch_size}
    )
    started = time.perf_counter()
    outputs = task.run(context)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    shutil.rmtree(folder)
    print(json.dumps({"seconds": seconds, "rows": outputs["rows"], "rss_before_mb": before, "peak_rss_mb": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--child", nargs=3, metavar=("PATH", "URL", "TABLE"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        _child(*options.child, options.batch_size)
        return
    admin = postgres_admin()
    if admin is None:
        sys.exit(f"no PostgreSQL server at {POSTGRES_URL}")
    database = f"lanner_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
    url = sa.make_url(POSTGRES_URL).set(database=database)
    results: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            files = _files(Path(tmp), options.rows)
            for fmt, path in files.items():
                table = f"sales_{fmt}"
                run = subprocess.run(
                    [sys.executable, __file__, "--batch-size", str(options.batch_size), "--child", str(path),
                     url.render_as_string(hide_password=False), table],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                measured = json.loads(run.stdout.strip().splitlines()[-1])
                results[f"postgresql.load {fmt}"] = {
                    "rows_s": round(measured["rows"] / measured["seconds"]),
                    "seconds": round(measured["seconds"], 2),
                    "peak_rss_mb": round(measured["peak_rss_mb"]),
                    "rss_before_load_mb": round(measured["rss_before_mb"]),
                    "file_mb": round(path.stat().st_size / 2**20, 1),
                }
            engine = sa.create_engine(url)
            with engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "CREATE TABLE psql_copy (id BIGINT, store TEXT, day DATE, amount DOUBLE PRECISION, qty INT)"
                    )
                )
            engine.dispose()
            libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
            started = time.perf_counter()
            subprocess.run(
                ["psql", libpq, "-q", "-c", f"\\copy psql_copy FROM '{files['csv']}' CSV HEADER"], check=True
            )
            seconds = time.perf_counter() - started
            results["psql \\copy csv"] = {"rows_s": round(options.rows / seconds), "seconds": round(seconds, 2)}
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        admin.dispose()
    print(json.dumps({"rows": options.rows, "batch_size": options.batch_size, "results": results}, indent=2))


if __name__ == "__main__":
    main()
