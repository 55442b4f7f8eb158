"""A real S3-compatible server for tests and benchmarks: ``moto_server`` from this venv, on a free port."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import free_port, wait_for_http

ACCESS_KEY, SECRET_KEY, REGION = "testing", "testing", "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str

    def env(self, prefix: str = "lanner") -> dict[str, str]:
        """The ``LANNER_STORAGE_*`` settings that point a Lanner process at this server's bucket."""
        return {
            "LANNER_STORAGE_URL": f"s3://{self.bucket}/{prefix}",
            "LANNER_STORAGE_ENDPOINT": self.endpoint,
            "LANNER_STORAGE_REGION": REGION,
            "LANNER_STORAGE_ACCESS_KEY": ACCESS_KEY,
            "LANNER_STORAGE_SECRET_KEY": SECRET_KEY,
        }

    def storage(self, prefix: str = "lanner"):
        from engine.storage.s3 import S3Storage

        return S3Storage(
            self.bucket, prefix, endpoint=self.endpoint, region=REGION, access_key=ACCESS_KEY, secret_key=SECRET_KEY
        )


@contextlib.contextmanager
def moto_server(folder: Path) -> Iterator[S3Server]:
    """Start ``moto_server`` (S3 only), wait until it answers, create a bucket; stop it at the end."""
    port = free_port()
    log = folder / "moto.log"
    program = Path(sys.executable).with_name("moto_server")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(program), "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_for_http(f"{endpoint}/moto-api/data.json", process, log, 60, name="moto_server")
        server = S3Server(endpoint, f"lanner-{uuid.uuid4().hex[:8]}")
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        client.create_bucket(Bucket=server.bucket)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
