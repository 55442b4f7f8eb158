"""Secrets read by ``secret('NAME')`` in expressions.

A secret is set on a namespace and stored encrypted (engine/identity/crypto.py). A flow of ``acme.sales.eu`` looks in
``acme.sales.eu``, then ``acme.sales``, then ``acme``; when none has it, the environment of the worker or
executor is the last resort: ``LANNER_SECRET_<NAME>`` (as Kestra's open-source edition does with SECRET_*).
Listing gives names only: a value leaves the database only to be used by a task.

An execution's ``SECRET`` inputs are kept the same way: encrypted under the same key in the execution's
``secret_inputs`` column, while its ``inputs`` (what every view shows) hold ``****`` in their place. So are the
``SECRET`` values a person gives when resuming a pause (``onResume``): in the task run's ``secret_outputs``, by
output (``{"resumed": {name: sealed}}``), with ``****`` in its ``outputs``; and those given to a backfill, in its
trigger state (``backfill.secretInputs``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from sqlmodel import Session

from engine.core.namespaces import lineage
from engine.identity import audit
from engine.identity.crypto import SecretKey, load_key
from engine.store import secrets as store
from engine.store.tables import Execution, TaskRun, TriggerState
from engine.tasks.context import ConfigurationError

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
MASK = "****"  # what a secret input's value is stored and shown as
Sealed = dict[str, dict[str, str]]  # secret values by name, each {"keyId": ..., "ciphertext": ...} (seal_inputs)


class SecretMissing(ConfigurationError, LookupError):
    """A secret no namespace of the flow's lineage has, nor the environment: a task using it is not retried."""


def env_key(name: str) -> str:
    return "LANNER_SECRET_" + str(name).upper().replace("-", "_").replace(".", "_")


def lookup_secret(name: str) -> str:
    """A secret from the environment only (the fallback, and what runs without a namespace use)."""
    key = env_key(name)
    value = os.environ.get(key)
    if value is None:
        raise SecretMissing(f"secret '{name}' is not set (define {key})")
    return value


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ValueError(f"invalid secret name {name!r}: letters, digits, '_', '.', '-', starting with a letter or '_'")
    return name


def set_secret(
    session: Session, namespace: str, name: str, value: str, actor: str | None = None, *, key: SecretKey | None = None
) -> None:
    key = key or load_key()
    store.put_secret(session, namespace, check_name(name), key.encrypt(value), key.key_id, actor)
    audit.record(session, actor or audit.SYSTEM, audit.AuditAction.CHANGED, namespace, "secret", name)  # no value


def delete_secret(session: Session, namespace: str, name: str, actor: str | None = None) -> bool:
    """Whether there was such a secret."""
    if not store.remove_secret(session, namespace, name):
        return False
    audit.record(session, actor or audit.SYSTEM, audit.AuditAction.DELETED, namespace, "secret", name)
    return True


def rotate_key(session: Session, old: SecretKey, new: SecretKey, *, actor: str) -> int:
    """Re-encrypt every secret stored with ``old`` under ``new``, in the caller's transaction: all or none.

    Rows already under ``new`` are left alone (a rotation interrupted and run again finishes the job); a row
    under a third key stops everything, naming it, rather than leaving secrets nobody can read.
    """
    rows = store.secrets_not_under(session, new.key_id)
    strangers = sorted({row.key_id for row in rows if row.key_id != old.key_id})
    if strangers:
        raise ValueError(
            f"some secrets were encrypted with neither key (key ids {', '.join(strangers)}): nothing changed"
        )
    holders = _stale_sealed_values(session, new)
    key_ids = {item["keyId"] for _, _, sealed, _ in holders for item in sealed.values()}
    strangers = sorted(key_ids - {old.key_id, new.key_id})
    if strangers:
        raise ValueError(
            f"some secret inputs were encrypted with neither key (key ids {', '.join(strangers)}): nothing changed"
        )
    for row in rows:
        plain = old.decrypt(row.ciphertext, row.key_id, what=f"secret {row.name} of {row.namespace}")
        row.ciphertext, row.key_id = new.encrypt(plain), new.key_id
    store.save_reencrypted(session, rows)
    for _, restore, sealed, _ in holders:
        stale = {name: item for name, item in sealed.items() if item["keyId"] != new.key_id}
        plain = open_inputs(stale, lambda: old)
        restore({**sealed, **seal_inputs(plain, plain, new)[1]})
    store.save_reencrypted(session, [row for _, _, _, row in holders])
    kinds = [kind for kind, _, _, _ in holders]
    audit.record(
        session,
        actor,
        audit.AuditAction.CHANGED,
        None,
        "secret_key",
        new.key_id,
        before=old.key_id,
        secrets=len(rows),
        executions=kinds.count("execution"),
        resumed_pauses=kinds.count("task_run"),
        backfills=kinds.count("backfill"),
    )
    return len(rows)


def _stale_sealed_values(
    session: Session, new: SecretKey
) -> list[tuple[str, Callable[[Sealed], None], Sealed, Execution | TaskRun | TriggerState]]:
    """Every stored set of sealed values with one under another key than ``new``: its kind, how to put it back,
    the set and its row. Executions' SECRET inputs, pauses' SECRET ``onResume`` values, backfills' SECRET inputs.
    (A JSON column is saved only when it is assigned a new value, hence the new dicts.)"""
    found: list[tuple[str, Callable[[Sealed], None], Sealed, Execution | TaskRun | TriggerState]] = []

    def stale(sealed: Sealed) -> bool:
        return any(item["keyId"] != new.key_id for item in sealed.values())

    def execution_store(row: Execution) -> Callable[[Sealed], None]:
        return lambda sealed: setattr(row, "secret_inputs", sealed)

    def run_store(row: TaskRun, output: str) -> Callable[[Sealed], None]:
        return lambda sealed: setattr(row, "secret_outputs", {**row.secret_outputs, output: sealed})

    def backfill_store(row: TriggerState) -> Callable[[Sealed], None]:
        def put_back(sealed: Sealed) -> None:
            row.data = {**row.data, "backfill": {**row.data["backfill"], "secretInputs": sealed}}

        return put_back

    for execution in store.executions_with_secret_inputs(session):
        if stale(execution.secret_inputs or {}):
            found.append(("execution", execution_store(execution), execution.secret_inputs, execution))
    for run in store.task_runs_with_secret_outputs(session):
        for output, sealed in (run.secret_outputs or {}).items():
            if stale(sealed):
                found.append(("task_run", run_store(run, output), sealed, run))
    for state in store.trigger_states_with_backfill_secrets(session):
        sealed = (state.data.get("backfill") or {}).get("secretInputs") or {}
        if stale(sealed):
            found.append(("backfill", backfill_store(state), sealed, state))
    return found


def list_secret_names(session: Session, namespace: str) -> list[str]:
    """Names of the secrets set on this namespace itself; never their values."""
    return store.secret_names(session, namespace)


class SecretResolver:
    """``secret()`` for the flows of one namespace, from rows read once, when an expression first asks (most
    task runs use no secret, so most never run the query).

    Values are decrypted only when an expression asks for them, so a run that uses no stored secret needs
    no key.
    """

    def __init__(
        self,
        namespace: str,
        rows: list[tuple[str, str, str, str]] | Callable[[], list[tuple[str, str, str, str]]],
        key: Callable[[], SecretKey] = load_key,
    ) -> None:
        self.namespace = namespace
        self._key = key
        self._rows = rows
        self._found: dict[str, tuple[str, str, str]] | None = None
        self._values: dict[str, str] = {}

    def _nearest(self) -> dict[str, tuple[str, str, str]]:
        if self._found is None:
            rows = self._rows() if callable(self._rows) else self._rows
            depth = {ns: index for index, ns in enumerate(lineage(self.namespace))}
            self._found = {}
            for ns, name, ciphertext, key_id in sorted(rows, key=lambda row: depth[row[0]], reverse=True):
                self._found[name] = (ns, ciphertext, key_id)  # nearer namespaces come later and win
        return self._found

    def __call__(self, name: str) -> str:
        name = str(name)
        if name in self._values:
            return self._values[name]
        found = self._nearest().get(name)
        if found is None:
            key = env_key(name)
            value = os.environ.get(key)
            if value is None:
                raise SecretMissing(
                    f"secret '{name}' is not set in namespace {self.namespace} or its parents: "
                    f"lanner secret set {self.namespace} {name} (or define {key} where flows run)"
                )
        else:
            ns, ciphertext, key_id = found
            value = self._key().decrypt(ciphertext, key_id, what=f"secret '{name}' of namespace {ns}")
        self._values[name] = value
        return value

    @property
    def values_read(self) -> set[str]:
        """The values expressions asked for so far: what must be masked wherever they might show."""
        return set(self._values.values())


def secret_resolver(session: Session, namespace: str) -> SecretResolver:
    """The resolver of ``namespace``; its rows are read on first use, in a session of its own on the same
    database (the snapshot's session is closed by then)."""
    bind = session.get_bind()

    def rows() -> list[tuple[str, str, str, str]]:
        with Session(bind) as own:
            return store.secrets_in(own, lineage(namespace))

    return SecretResolver(namespace, rows)


def seal_inputs(
    values: dict[str, Any], names: Iterable[str], key: SecretKey | None = None
) -> tuple[dict[str, Any], Sealed]:
    """An execution's inputs as stored and shown (each secret one given a value becomes ``****``), and the
    secret ones encrypted by name, each with the id of its key (``{"keyId": ..., "ciphertext": ...}``)."""
    shown, sealed = dict(values), {}
    for name in names:
        if values.get(name) is None:
            continue  # an optional secret input left empty: nothing to hide
        key = key or load_key()
        sealed[name] = {"keyId": key.key_id, "ciphertext": key.encrypt(str(values[name]))}
        shown[name] = MASK
    return shown, sealed


def open_inputs(sealed: Sealed | None, key: Callable[[], SecretKey] = load_key) -> dict[str, str]:
    """The values of secret inputs sealed by ``seal_inputs``."""
    if not sealed:
        return {}
    return {
        name: key().decrypt(item["ciphertext"], item["keyId"], what=f"secret input '{name}'")
        for name, item in sealed.items()
    }


class SecretInputs:
    """An execution's secret inputs (or a task run's secret outputs), decrypted once, when an expression is first
    rendered (engine/core/progress.py): an execution whose runs render nothing needs no key."""

    def __init__(self, sealed: Sealed, key: Callable[[], SecretKey] = load_key) -> None:
        self._sealed, self._key = sealed, key
        self._values: dict[str, str] | None = None

    def __call__(self) -> dict[str, str]:
        if self._values is None:
            self._values = open_inputs(self._sealed, self._key)
        return self._values
