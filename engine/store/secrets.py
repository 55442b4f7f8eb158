"""Namespace secrets and executions' secret inputs: the rows, as ciphertext. Encrypting, decrypting and the
lookup along the namespace lineage live in ``engine.workspace.secrets``; no plain value passes through here."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from engine.store.named_values import put_named, remove_named
from engine.store.tables import Execution, NamespaceSecret, TaskRun, TriggerState


def put_secret(session: Session, namespace: str, name: str, ciphertext: str, key_id: str, actor: str | None) -> None:
    """Set the secret's ciphertext, creating it or replacing the one there."""
    put_named(session, NamespaceSecret, namespace, name, actor, ciphertext=ciphertext, key_id=key_id)


def remove_secret(session: Session, namespace: str, name: str) -> bool:
    """Whether there was such a secret; a second call in the same session then finds nothing."""
    return remove_named(session, NamespaceSecret, namespace, name)


def secret_names(session: Session, namespace: str) -> list[str]:
    """Names of the secrets set on this namespace itself, sorted."""
    statement = select(NamespaceSecret.name).where(NamespaceSecret.namespace == namespace)
    return list(session.exec(statement.order_by(col(NamespaceSecret.name))))


def secrets_in(session: Session, namespaces: Iterable[str]) -> list[tuple[str, str, str, str]]:
    """``(namespace, name, ciphertext, key id)`` of every secret set on any of ``namespaces``, in one query."""
    statement = select(
        NamespaceSecret.namespace, NamespaceSecret.name, NamespaceSecret.ciphertext, NamespaceSecret.key_id
    ).where(col(NamespaceSecret.namespace).in_(list(namespaces)))
    return [tuple(row) for row in session.exec(statement)]


def secrets_not_under(session: Session, key_id: str) -> list[NamespaceSecret]:
    """Secrets encrypted with another key than ``key_id`` (to re-encrypt them)."""
    return list(session.exec(select(NamespaceSecret).where(col(NamespaceSecret.key_id) != key_id)))


def executions_with_secret_inputs(session: Session) -> list[Execution]:
    return list(session.exec(select(Execution).where(col(Execution.secret_inputs).is_not(None))))


def task_runs_with_secret_outputs(session: Session) -> list[TaskRun]:
    """Task runs holding SECRET values among their outputs (a pause's ``onResume`` answers)."""
    return list(session.exec(select(TaskRun).where(col(TaskRun.secret_outputs).is_not(None))))


def trigger_states_with_backfill_secrets(session: Session) -> list[TriggerState]:
    """Trigger states that may hold a backfill's SECRET inputs (the caller looks inside their JSON)."""
    return list(session.exec(select(TriggerState)))


def save_reencrypted(session: Session, rows: Iterable[NamespaceSecret | Execution | TaskRun | TriggerState]) -> None:
    """Keep rows whose ciphertexts were replaced (written when the transaction commits)."""
    session.add_all(list(rows))


def secret_names_in(session: Session, namespaces: Iterable[str]) -> list[tuple[str, str]]:
    """``(namespace, name)`` of every secret set on any of ``namespaces``; never a value."""
    statement = select(NamespaceSecret.namespace, NamespaceSecret.name).where(
        col(NamespaceSecret.namespace).in_(list(namespaces))
    )
    return [tuple(row) for row in session.exec(statement)]
