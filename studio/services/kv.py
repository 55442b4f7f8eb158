"""A namespace's KV store for the studio: the entries its flows read (own and inherited), set and delete.

``engine.services.kv`` decides access (members read, editors change) and audits; this turns the page's text
fields into a value and an expiry, and returns typed entries the page state words with ``studio.display``.
"""

from __future__ import annotations

import json
from typing import Any

from engine.identity.policy import Principal
from engine.services import kv
from engine.services.kv import KvEntryView
from studio.services import database


def entries(principal: Principal, namespace: str) -> list[KvEntryView]:
    """Every live entry the namespace's flows read, by key (``own`` when set here, else its ``origin``)."""
    return kv.entries(database(), principal, namespace)


def parse_value(text: str) -> Any:
    """What a person types, as a KV value: JSON when it is JSON (``42``, ``true``, ``{"a": 1}``, ``"x"``), the
    text itself otherwise (``hello`` needs no quotes)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def set_entry(principal: Principal, namespace: str, key: str, text: str, ttl: str = "") -> KvEntryView:
    """``text`` read by ``parse_value``; ``ttl`` empty for never. Raises ``ValueError`` (``InvalidInput``,
    ``Conflict``) for a bad namespace, key, value or ttl."""
    return kv.set_entry(database(), principal, namespace, key.strip(), parse_value(text), ttl=ttl.strip() or None)


def delete_entry(principal: Principal, namespace: str, key: str) -> bool:
    """Whether the namespace itself held the key."""
    return kv.delete_entry(database(), principal, namespace, key)
