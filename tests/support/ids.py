"""Unique names, so tests that share a database, a Redis or a server never see each other's data."""

from __future__ import annotations

import uuid


def unique(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"
