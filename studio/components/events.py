"""Event specs shared by the wrapped React components: what each of their events hands to Python."""

from typing import Any

import reflex as rx


def payload(value: rx.Var[dict[str, Any]]) -> tuple[rx.Var[dict[str, Any]]]:
    return (value,)


def text(value: rx.Var[str]) -> tuple[rx.Var[str]]:
    return (value,)
