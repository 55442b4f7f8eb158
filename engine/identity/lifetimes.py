"""When a secret token stops working: API tokens, share links and sign-in sessions are revoked or expire alike.

One check for the three, so a token that is refused at the door is also shown as expired or revoked.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from engine.store.tables import utcnow


class Expiring(Protocol):
    expires_at: dt.datetime | None


def aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC with its time zone (SQLite gives naive datetimes back)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def now() -> dt.datetime:
    return aware(utcnow())


def expired(row: Expiring, at: dt.datetime | None = None) -> bool:
    return row.expires_at is not None and aware(row.expires_at) <= aware(at or utcnow())


def status(row: Expiring, at: dt.datetime | None = None) -> str:
    """ "revoked", "expired" or "active" (a row without ``revoked_at``, like a sign-in session, is never revoked)."""
    if getattr(row, "revoked_at", None) is not None:
        return "revoked"
    return "expired" if expired(row, at) else "active"


def is_live(row: Expiring | None, at: dt.datetime | None = None) -> bool:
    """Whether the row found for a token still lets it in: it exists, is not revoked and has not expired."""
    return row is not None and status(row, at) == "active"


def revoke(row: Expiring) -> bool:
    """Mark ``row`` revoked now; False when it already was (revoking twice changes nothing, audits nothing)."""
    if getattr(row, "revoked_at", None) is not None:
        return False
    row.revoked_at = utcnow()
    return True
