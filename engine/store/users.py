"""People's accounts and their roles on namespaces (memberships): the rows. Rules live in ``engine.identity.users``."""

from __future__ import annotations

from sqlmodel import Session, col, select

from engine.store.tables import Membership, User


def find_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def username_taken(session: Session, username: str) -> bool:
    return session.exec(select(User.id).where(User.username == username)).first() is not None


_ANY_USER = select(User.id).limit(1)


def any_user(session: Session) -> bool:
    """Whether anybody has an account yet (before the first one, the engine runs without sign-in): asked by every
    API call until then, so a Core statement built once."""
    return session.connection().execute(_ANY_USER).first() is not None


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.username)))


def add_user(session: Session, user: User) -> User:
    """Insert ``user``; the unique index refuses a twin created at the same moment."""
    session.add(user)
    session.flush()
    return user


def save_user(session: Session, user: User) -> None:
    """Keep the changes made to ``user`` (written when the transaction commits)."""
    session.add(user)


def memberships_of(session: Session, user_id: int) -> list[Membership]:
    return list(session.exec(select(Membership).where(Membership.user_id == user_id)))


def members_of(session: Session, namespace: str) -> list[tuple[str, str]]:
    """(username, role) granted on exactly ``namespace``, by username."""
    rows = session.exec(
        select(User.username, Membership.role)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(Membership.namespace == namespace)
        .order_by(User.username)
    )
    return [(username, role) for username, role in rows]


def get_membership(session: Session, user_id: int, namespace: str) -> Membership | None:
    return session.get(Membership, (user_id, namespace))


def set_membership(session: Session, user_id: int, namespace: str, role: str) -> str | None:
    """Give the role on ``namespace``, replacing the one there; returns the role there before (None: none)."""
    row = session.get(Membership, (user_id, namespace))
    before = row.role if row else None
    if row is None:
        row = Membership(user_id=user_id, namespace=namespace, role=role)
    row.role = role
    session.add(row)
    session.flush()
    return before


def delete_membership(session: Session, user_id: int, namespace: str) -> str | None:
    """Remove the role on exactly ``namespace``; returns it (None: there was none)."""
    row = session.get(Membership, (user_id, namespace))
    if row is None:
        return None
    session.delete(row)
    session.flush()
    return row.role
