"""The audit trail: who did what, where, when. Events are only ever added, never changed.

The actions, the actors that are not people, and reading and writing events are defined with the table in
``engine/store/audit.py`` (the store records a deploy in its own transaction); this is the name the
services, the API, the CLI and the studio import them by.
"""

from __future__ import annotations

from engine.store.audit import RESERVED_ACTORS, SHARE, SYSTEM, WEBHOOK, AuditAction, events, record

__all__ = ["RESERVED_ACTORS", "SHARE", "SYSTEM", "WEBHOOK", "AuditAction", "events", "record"]
