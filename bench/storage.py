"""Internal storage throughput: upload (put) and download (get) of 1 MB and 100 MB files, in MB/s, for the local
backend and the S3 backend on a moto_server this script starts (a local, in-memory S3: it measures the client's and
Lanner's overhead and the transfer manager, not a network). Prints JSON.

Run: .venv/bin/python bench/storage.py [--repeat N] [--sizes 1,100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.storage import Address, Storage  # noqa: E402
from engine.storage.local import LocalStorage  # noqa: E402
from tests.support.s3 import moto_server  # noqa: E402

MB = 1024 * 1024


def _measure(storage: Storage, source: Path, folder: Path, repeat: int) -> dict[str, float]:
    """Best and median MB/s over ``repeat`` puts of new addresses, then as many gets."""
    size_mb = source.stat().st_size / MB
    ups, downs, addresses = [], [], []
    for _ in range(repeat):
        address = Address("bench", "storage", uuid.uuid4().hex, "t", 1, source.name)
        started = time.perf_counter()
        storage.put(address, source)
        ups.append(size_mb / (time.perf_counter() - started))
        addresses.append(address)
    for address in addresses:
        target = folder / f"down-{uuid.uuid4().hex}"
        started = time.perf_counter()
        storage.get(address, target)
        downs.append(size_mb / (time.perf_counter() - started))
        target.unlink()
    for address in addresses:
        storage.delete_execution(address.namespace, address.flow_id, address.execution_id)
    return {
        "upload_mb_s_best": round(max(ups), 1),
        "upload_mb_s_median": round(statistics.median(ups), 1),
        "download_mb_s_best": round(max(downs), 1),
        "download_mb_s_median": round(statistics.median(downs), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1,100", help="file sizes in MB, comma separated")
    options = parser.parse_args()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="lanner-bench-") as temporary:
        folder = Path(temporary)
        sources = []
        for size in (int(text) for text in options.sizes.split(",")):
            source = folder / f"file-{size}mb.bin"
            with source.open("wb") as file:
                for _ in range(size):
                    file.write(os.urandom(MB))
            sources.append((size, source))
        with moto_server(folder) as server:
            backends = {"local": LocalStorage(folder / "store"), "s3 (moto_server)": server.storage(prefix="bench")}
            for name, storage in backends.items():
                for size, source in sources:
                    results[f"{name}, {size} MB"] = _measure(storage, source, folder, options.repeat)
    print(json.dumps({"repeat": options.repeat, "cpu_count": os.cpu_count(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
