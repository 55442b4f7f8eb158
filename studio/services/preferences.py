"""A signed-in person's own preferences for the studio: its theme, remembered per user (server side)."""

from __future__ import annotations

from engine.identity.policy import Principal
from engine.services import people as service
from studio.services import database


def theme(principal: Principal) -> str:
    """``system`` (follow the browser's preference: the default), ``light`` or ``dark``."""
    return service.theme(database(), principal)


def set_theme(principal: Principal, theme: str) -> None:
    """Remember ``theme`` for the person; a name that is not a theme is refused with a message."""
    service.set_theme(database(), principal, theme)
