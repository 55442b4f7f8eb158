"""Hostile input against a running API: prints, per input, the status and the time it took to answer.

The inputs of issue 12 and variants: YAML alias bombs, deep and huge YAML, NUL characters in JSON, forms, queries
and paths, 100,000-deep JSON bodies, LIKE wildcards as search text, uploads aimed outside LANNER_HOME or at
flows that do not exist, outputFiles leaving the working folder, a never-ending expression, oversized bodies,
and a stranger failing sign-ins on someone else's name. A ping runs beside the slowest inputs. Any 5xx, or an
answer slower than ``--slow`` seconds, makes the script exit 1.

Run: .venv/bin/python bench/hostile.py [--url http://host:port]
Without ``--url`` it starts ``lanner api`` on embedded defaults (SQLite, embedded Redis) in a temporary
LANNER_HOME, and stops it at the end. With ``--url`` the server must not have users yet for the flow deploys
(or pass ``--token``); the sign-in probe then creates none and is skipped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
YAML = {"content-type": "application/x-yaml"}
JSON = {"content-type": "application/json"}
PASSWORD = "correct horse battery"


def bomb(levels: int, width: int) -> str:
    head = "a0: &a0 lol\n"
    return head + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]\n" for i in range(1, levels + 1))


FLOW = """\
id: target
namespace: bench.hostile
inputs:
  - id: data
    type: FILE
    required: false
tasks:
  - id: say
    type: log
    message: hello
triggers:
  - id: hook
    type: webhook
    key: hostile-bench-key-0123
"""
OUTPUT_FILES = """\
id: leak
namespace: bench.hostile
tasks:
  - id: copy
    type: shell
    commands: ["true"]
    outputFiles: ["../../etc/passwd", "/etc/shadow"]
"""
POWER = """\
id: power
namespace: bench.hostile
tasks:
  - id: say
    type: log
    message: "{{ (7 ** 30000000) > 0 }}"
"""


class Bench:
    def __init__(self, base: str, home: Path | None, token: str | None, slow: float) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=f"{base}/api/v1", timeout=120, headers=headers)
        self.home, self.slow, self.bad = home, slow, 0

    def probe(self, name: str, method: str, path: str, note=None, **options) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            answer = self.client.request(method, path, **options)
        except httpx.HTTPError as exc:
            print(f"  ERR {time.perf_counter() - started:8.3f}s  {name}: {type(exc).__name__} {exc}")
            self.bad += 1
            return None
        took = time.perf_counter() - started
        message = ""
        if answer.headers.get("content-type", "").startswith("application/json"):
            body = answer.json()
            if isinstance(body, dict):
                problems = body.get("problems") or []
                message = problems[0]["message"] if problems else str(body.get("message", ""))
        extra = f" [{note(answer)}]" if note else ""
        print(f"  {answer.status_code} {took:8.3f}s  {name}: {message[:90]}{extra}")
        if answer.status_code >= 500 or took > self.slow:
            self.bad += 1
        return answer

    def with_ping(self, name: str, method: str, path: str, **options) -> None:
        """The probe, with pings beside it: the slowest ping says whether everyone else was kept waiting."""
        pings: list[float] = []
        done = threading.Event()

        def ping() -> None:
            with httpx.Client(base_url=self.client.base_url, headers=self.client.headers, timeout=120) as other:
                while not done.is_set():
                    started = time.perf_counter()
                    other.get("/namespaces")
                    pings.append(time.perf_counter() - started)
                    time.sleep(0.02)

        pinger = threading.Thread(target=ping)
        pinger.start()
        try:
            self.probe(name, method, path, note=lambda _: f"slowest ping {max(pings, default=0):.3f}s", **options)
        finally:
            done.set()
            pinger.join()

    def outside_files(self) -> str:
        """Files an upload left where nothing should be: outside LANNER_HOME/uploads, or under uploads at all."""
        if self.home is None:
            return "home unknown"
        uploads_root = (self.home / "uploads").resolve()
        stray = [p for p in self.home.parent.rglob("escape*.txt") if not p.resolve().is_relative_to(uploads_root)]
        uploads = [p for p in (self.home / "uploads").rglob("*") if p.is_file()]
        return f"{len(stray)} escaped, {len(uploads)} under uploads"


def run(bench: Bench, can_sign_in: bool) -> None:
    p = bench.probe
    print("YAML")
    bench.with_ping(
        "alias bomb 473 bytes (9 x 7 levels) -> validate", "POST", "/flows/validate", content=bomb(7, 9), headers=YAML
    )
    p("alias bomb -> deploy", "POST", "/flows", content=bomb(7, 9), headers=YAML)
    p("alias bomb 10 x 9 levels -> validate", "POST", "/flows/validate", content=bomb(9, 10), headers=YAML)
    p(
        "merge-key bomb -> validate",
        "POST",
        "/flows/validate",
        headers=YAML,
        content="a: &a {x: 1, y: 2}\n"
        + "".join(f"b{i}: &b{i} {{<<: [*{'a' if i == 0 else f'b{i - 1}'}], z{i}: [*a, *a, *a]}}\n" for i in range(40)),
    )
    p(
        "flow-style nesting 10,000 deep",
        "POST",
        "/flows/validate",
        content="a: " + "[" * 10_000 + "]" * 10_000,
        headers=YAML,
    )
    p(
        "block nesting 300 deep",
        "POST",
        "/flows/validate",
        headers=YAML,
        content="\n".join("  " * d + "a:" for d in range(300)) + " 1",
    )
    p("1.5 MB document", "POST", "/flows/validate", content="# " + "x" * 1_500_000, headers=YAML)
    p("30,000 values", "POST", "/flows/validate", content="a: [" + "1," * 30_000 + "1]", headers=YAML)
    big = "id: big\nnamespace: bench.hostile\ntasks:\n" + "".join(
        f"  - {{id: t{i}, type: log, message: m}}\n" for i in range(2500)
    )
    bench.with_ping("2,500 tasks (legal, slow to check)", "POST", "/flows/validate", content=big, headers=YAML)
    p("not UTF-8", "POST", "/flows/validate", content=b"id: \xff\xfe", headers=YAML)
    p("outputFiles ../../etc/passwd -> validate", "POST", "/flows/validate", content=OUTPUT_FILES, headers=YAML)
    p("7 ** 30000000 in a message -> validate", "POST", "/flows/validate", content=POWER, headers=YAML)

    print("NUL characters")
    p("NUL in JSON login", "POST", "/auth/login", content=b'{"username": "a\\u0000b", "password": "x"}', headers=JSON)
    p(
        "raw NUL byte in JSON login",
        "POST",
        "/auth/login",
        content=b'{"username": "a\x00b", "password": "x"}',
        headers=JSON,
    )
    p("NUL in form login", "POST", "/auth/login", data={"username": "a\x00b", "password": "x"})
    p("NUL in multipart login", "POST", "/auth/login", files={"username": (None, "a\x00b"), "password": (None, "x")})
    p("NUL in query q=%00abc", "GET", "/executions?q=%00abc")
    p("NUL in flows query", "GET", "/flows?q=a%00")
    p("NUL in path", "GET", "/flows/a%00b/c")
    p("NUL in trigger inputs", "POST", "/executions/trigger/bench.hostile/target", json={"inputs": {"x": "a\x00"}})
    p("NUL in webhook body", "POST", "/webhooks/bench.hostile/target/hostile-bench-key-0123", content=b"a\x00b")

    print("Deep and large JSON")
    deep = "[" * 100_000 + "]" * 100_000
    p("100,000-deep JSON -> login", "POST", "/auth/login", content=deep, headers=JSON)
    p("100,000-deep JSON -> trigger", "POST", "/executions/trigger/bench.hostile/target", content=deep, headers=JSON)
    p(
        "100,000-deep JSON -> webhook",
        "POST",
        "/webhooks/bench.hostile/target/hostile-bench-key-0123",
        content=deep,
        headers=JSON,
    )
    p(
        "100,000-deep objects as text -> webhook",
        "POST",
        "/webhooks/bench.hostile/target/hostile-bench-key-0123",
        content='{"a":' * 100_000 + "1" + "}" * 100_000,
        headers={"content-type": "text/plain"},
    )
    p("3 MB JSON body", "POST", "/auth/login", content=b'{"username": "' + b"x" * 3_000_000 + b'"}', headers=JSON)
    bench.with_ping(
        "1.9 MB of empty lists",
        "POST",
        "/executions/trigger/bench.hostile/target",
        headers=JSON,
        content=b"[" + b"[]," * 600_000 + b"[]]",
    )

    print("Search wildcards")
    p("an execution to find", "POST", "/executions/trigger/bench.hostile/target", json={})
    p("executions q= (everything)", "GET", "/executions", params={"q": ""}, note=lambda a: f"{a.json()['total']} found")
    count = lambda a: f"{a.json().get('total')} found" if a.status_code == 200 else ""  # noqa: E731
    p("executions q=%", "GET", "/executions", params={"q": "%"}, note=count)
    p("executions q=_", "GET", "/executions", params={"q": "_"}, note=count)
    p("flows q=%", "GET", "/flows", params={"q": "%"}, note=count)

    print("Paths")
    where = lambda _: bench.outside_files()  # noqa: E731
    files = {"data": ("../../../../escape.txt", b"x")}
    p("upload to /trigger/%2e%2e/%2e%2e", "POST", "/executions/trigger/%2e%2e/%2e%2e", files=files, note=where)
    p(
        "upload to a flow that does not exist",
        "POST",
        "/executions/trigger/bench.hostile/nothere",
        files=files,
        note=where,
    )
    p(
        "upload with a bad input",
        "POST",
        "/executions/trigger/bench.hostile/target",
        files=files,
        data={"unknown": "1"},
        note=where,
    )
    p(
        "upload, valid (kept under uploads/)",
        "POST",
        "/executions/trigger/bench.hostile/target",
        files=files,
        note=where,
    )
    for path in ("/etc/passwd", "../../../../etc/passwd"):
        p(f"FILE input as a server path {path} (JSON)", "POST", "/executions/trigger/bench.hostile/target",
          json={"inputs": {"data": path}})  # fmt: skip

    print("Sign-in")
    if not can_sign_in:
        print("  skipped: the server has users (or a token was given)")
        return
    p("first administrator", "POST", "/auth/setup", json={"username": "root", "password": PASSWORD})
    stranger = {"x-forwarded-for": "203.0.113.9"}  # uvicorn believes it from 127.0.0.1, its default proxy
    for attempt in range(1, 7):
        p(
            f"stranger, wrong password #{attempt}",
            "POST",
            "/auth/login",
            headers=stranger,
            json={"username": "root", "password": "guess"},
        )
    p(
        "owner from another address, right password",
        "POST",
        "/auth/login",
        headers={"x-forwarded-for": "198.51.100.7"},
        json={"username": "root", "password": PASSWORD},
    )
    p(
        "stranger, right password",
        "POST",
        "/auth/login",
        headers=stranger,
        json={"username": "root", "password": PASSWORD},
    )
    bench.client.cookies.clear()
    p("audit trail without signing in", "GET", "/audit")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(home: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "LANNER_HOME": str(home)}
    for name in ("LANNER_DATABASE_URL", "LANNER_REDIS_URL", "LANNER_SERVER", "LANNER_TOKEN"):
        env.pop(name, None)
    log = open(home / "api.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "api", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/namespaces", timeout=5).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"lanner api did not start:\n{(home / 'api.log').read_text()[-3000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (default: start lanner api in a temporary LANNER_HOME)")
    parser.add_argument("--token", help="an API token for a server with users")
    parser.add_argument("--slow", type=float, default=5.0, help="seconds beyond which an answer counts as a stall")
    args = parser.parse_args()
    folder, process = None, None
    try:
        if args.url:
            base, home = args.url.rstrip("/"), None
        else:
            folder = Path(tempfile.mkdtemp(prefix="lanner-hostile-bench-"))
            home = folder / "home"
            home.mkdir()
            process, base = start_server(home)
        bench = Bench(base, home, args.token, args.slow)
        started = time.perf_counter()
        bench.probe("deploy the target flow", "POST", "/flows", content=FLOW, headers=YAML)
        can_sign_in = bench.client.get("/auth/me").json().get("sign_in_required") is False and not args.token
        run(bench, can_sign_in)
        print(
            f"{bench.bad} input(s) answered 5xx, failed or took over {args.slow} s; {time.perf_counter() - started:.1f} s in all"
        )
        return 1 if bench.bad else 0
    finally:
        if process is not None:
            os.killpg(process.pid, 15)
            process.wait(20)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
