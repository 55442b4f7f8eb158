"""A person's own preferences: the studio's theme (``system``, ``light`` or ``dark``)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from engine.api.deps import Caller, connections
from engine.api.schemas import ERRORS
from engine.services import people

router = APIRouter(tags=["auth"])


class PreferencesOut(BaseModel):
    theme: str


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: Literal["system", "light", "dark"]


@router.get("/auth/me/preferences", response_model=PreferencesOut, responses=ERRORS)
def preferences(caller: Caller) -> PreferencesOut:
    return PreferencesOut(theme=people.theme(connections().db, caller))


@router.put("/auth/me/preferences", response_model=PreferencesOut, responses=ERRORS)
def set_preferences(body: PreferencesIn, caller: Caller) -> PreferencesOut:
    people.set_theme(connections().db, caller, body.theme)
    return PreferencesOut(theme=people.theme(connections().db, caller))
