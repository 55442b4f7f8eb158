"""Errors rewritten for people: what failed, where, and what to try; the raw error stays one click away.

One small table of the errors people meet most (a service that does not answer, a host that does not exist, a
refused password, the YAML parser's complaints). A message the table does not know is shown as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Explained:
    text: str  # for people
    raw: str  # the error as the software said it (the "Details")

    @property
    def rewritten(self) -> bool:
        return self.text != self.raw


# (pattern of the raw error, what to say): ``{target}`` is host:port (or "the service"), ``{host}`` the host.
_CONNECTION: list[tuple[str, str]] = [
    (
        r"Errno 111|Connection refused|ECONNREFUSED|actively refused",
        "Could not reach {target} — is the service running? Check the host and port.",
    ),
    (
        r"Name or service not known|nodename nor servname|getaddrinfo failed|could not translate host name|"
        r"Errno -[23]\b|Temporary failure in name resolution|Unknown (?:MySQL )?server host",
        "Could not find the host {host} — check its spelling (and the network's DNS).",
    ),
    (
        r"timed out|timeout expired|Errno 110|no answer within",
        "No answer from {target} in time — check the host and port, and that a firewall lets you through.",
    ),
    (
        r"Network is unreachable|No route to host|Errno 11[3]|Errno 101",
        "No network path to {target} — check the address and your network.",
    ),
    (
        r"password authentication failed|Access denied for user|authentication failed|Login failed",
        "The user name or password was refused by {target} — check the secret that holds them.",
    ),
    (
        r"database \"?([\w.-]+)\"? does not exist|Unknown database '?([\w.-]+)'?",
        "The database {name} does not exist on {target} — check the name at the end of the address.",
    ),
    (
        r"SSL error|SSL:|SSL SYSCALL|certificate verify failed|TLS handshake",
        "The secure connection to {target} failed — check its certificate, or the address's sslmode.",
    ),
    (
        r"no such table:? ([\w.]+)|relation \"([\w.]+)\" does not exist",
        "The table {name} does not exist — check its name and the schema.",
    ),
    (r"Permission denied|permission denied", "Permission denied — the account may not do this; ask who manages it."),
]

_YAML: list[tuple[str, str]] = [
    (
        r"mapping values are not allowed",
        "a colon needs a space after it, or quote the value that holds ': ' (message: \"time: 10:00\"); "
        "check the indentation too.",
    ),
    (r"could not find expected ':'", "a key is missing its colon, or a quote opened above is not closed."),
    (
        r"found character .*?that cannot start any token|found a tab character",
        "a character here cannot start a value (a tab used to indent, or a value starting with @ or `) — "
        "indent with spaces, or put the value in quotes.",
    ),
    (
        r"expected <block end>|did not find expected key|did not find expected '-' indicator",
        "this line is not indented like the lines it belongs with — line it up with its siblings.",
    ),
    (r"found unexpected end of stream|unexpected end of", "a quote or bracket is opened but never closed."),
    (r"expected ',' or '\]'", "a [ ... ] list is not closed, or misses a comma between its items."),
    (r"expected ',' or '\}'", "a { ... } map is not closed, or misses a comma between its entries."),
    (r"found undefined alias|found undefined tag", "an alias (*name) or tag (!name) is used that is not defined."),
    (r"found duplicate anchor", "the same anchor (&name) is defined twice — rename one of them."),
]


def _where(address: str, raw: str) -> tuple[str, str]:
    """(target, host) of an error: from the address tried, else from the message itself."""
    if address and "{{" not in address:
        parts = urlsplit(address if "://" in address else f"//{address}")
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.hostname:
            return (f"{parts.hostname}:{port}" if port else parts.hostname), parts.hostname
    found = re.search(r"at \"?([\w.-]+)\"?(?: \([\d.:a-f]+\))?, port (\d+)", raw) or re.search(
        r"\b((?:\d{1,3}\.){3}\d{1,3}|localhost|[\w-]+(?:\.[\w-]+)+):(\d{2,5})\b", raw
    )
    if found:
        return f"{found.group(1)}:{found.group(2)}", found.group(1)
    host = re.search(r"host name \"?([\w.-]+)\"?|server host '([\w.-]+)'", raw)
    name = next((g for g in host.groups() if g), "") if host else ""
    return (name or "the service"), (name or "the server")


# The engine's own wording of what failed (``engine/tasks/sql/connection.py``): kept, naming host:port, not the URL.
_ENGINE_LEAD = re.compile(r"^could not connect to ")


def explain(raw: str, address: str = "") -> Explained:
    """A connection or service error for people; ``address`` (a URL or host:port) says what was tried."""
    for pattern, text in _CONNECTION:
        match = re.search(pattern, raw, re.I)
        if match:
            target, host = _where(address, raw)
            name = next((g for g in match.groups() if g), "") if match.groups() else ""
            said = text.format(target=target, host=host, name=f"'{name}'" if name else "named")
            lead = _ENGINE_LEAD.match(raw)
            if lead and " — " in said:
                said = f"could not connect to {target} — {said.split(' — ', 1)[1]}"
            return Explained(said, raw)
    return Explained(raw, raw)


def yaml_problem(line: int, column: int, message: str) -> Explained:
    """A problem of the flow's text at (line, column): the YAML parser's complaints rewritten, others as they are."""
    raw = f"{line}:{column}: {message}"
    if message.startswith(("YAML syntax error", "YAML error")):
        for pattern, text in _YAML:
            if re.search(pattern, message):
                return Explained(f"YAML syntax error on line {line}, column {column}: {text}", raw)
    plain = f"Line {line}, column {column}: {message}"  # already written for people: no details to hide
    return Explained(plain, plain)
