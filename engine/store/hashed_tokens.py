"""Rows found by a secret token of which only the sha256 digest is kept: API tokens, share links, sign-in
sessions. One lookup for the three, so each checks its token the same way, with one index lookup.

A digest (not argon2) is enough because every such token has 256 random bits.
"""

from __future__ import annotations

import hashlib
from typing import Protocol, TypeVar

from sqlmodel import Session, select


class HashedTokenRow(Protocol):
    token_hash: str


Row = TypeVar("Row", bound=HashedTokenRow)


def digest(token: str) -> str:
    """The sha256 hex digest kept instead of ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_by_token(session: Session, table: type[Row], plain: str) -> Row | None:
    """The row of ``table`` whose ``token_hash`` is the digest of ``plain``, or None."""
    return session.exec(select(table).where(table.token_hash == digest(plain))).first()
