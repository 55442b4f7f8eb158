"""Cron in plain words, and cron expressions built from the common patterns people ask for.

The words come from ``cron-descriptor``; whether an expression is valid is the engine's call
(``engine.flows.triggers.check_cron``, the check a deployed flow goes through), so both agree."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cron_descriptor import CasingTypeEnum, ExpressionDescriptor, Options

from engine.flows.triggers import check_cron

# An @alias read as the expression it stands for.
_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_FIELDS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


@dataclass(frozen=True)
class Pattern:
    key: str
    label: str
    needs: tuple[str, ...]  # which of every, minute, time, day, day_of_month the pattern reads


PATTERNS = (
    Pattern("every_minutes", "Every N minutes", ("every",)),
    Pattern("hourly", "Every hour, at minute M", ("minute",)),
    Pattern("daily", "Every day at a time", ("time",)),
    Pattern("weekdays", "Weekdays (Monday to Friday) at a time", ("time",)),
    Pattern("weekly", "Every week, on a day at a time", ("day", "time")),
    Pattern("monthly", "Every month, on day D at a time", ("day_of_month", "time")),
)


def cron_in_words(expression: str) -> str:
    """``0 9 * * MON-FRI`` → ``At 09:00, Monday through Friday``; ``ValueError`` (a message for people) when the
    expression is not one Lanner accepts."""
    text = " ".join(str(expression or "").split())
    if not text:
        raise ValueError("the schedule is empty: write a cron expression such as 0 9 * * MON-FRI, or use the builder")
    checked = check_cron(text)  # its messages say which field is wrong, and what the fields are
    options = Options()
    options.use_24hour_time_format = True
    options.casing_type = CasingTypeEnum.Sentence
    options.verbose = False
    words = ExpressionDescriptor(_ALIASES.get(checked, checked), options).get_description()
    return words


def cron_hint(expression: str) -> dict[str, str]:
    """What a page shows next to a cron field: ``{"words": ...}`` or ``{"error": ...}`` (never raises)."""
    try:
        return {"words": cron_in_words(expression), "error": ""}
    except ValueError as exc:
        return {"words": "", "error": str(exc)}


def _time(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text or "")
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"'{text}' is not a time of day: write it as HH:MM, from 00:00 to 23:59")
    return int(match.group(1)), int(match.group(2))


def _number(text: str, what: str, low: int, high: int) -> int:
    if not str(text or "").strip().isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high} (got '{text}')")
    return int(text)


def build_cron(
    pattern: str, *, every: str = "", minute: str = "", time: str = "", day: str = "", day_of_month: str = ""
) -> str:
    """The cron expression of a common pattern (see ``PATTERNS``); ``ValueError`` names what is wrong."""
    if pattern == "every_minutes":
        step = _number(every, "the number of minutes", 1, 59)
        return "* * * * *" if step == 1 else f"*/{step} * * * *"
    if pattern == "hourly":
        return f"{_number(minute, 'the minute', 0, 59)} * * * *"
    if pattern in ("daily", "weekdays", "weekly", "monthly"):
        hour, minutes = _time(time)
        if pattern == "daily":
            return f"{minutes} {hour} * * *"
        if pattern == "weekdays":
            return f"{minutes} {hour} * * MON-FRI"
        if pattern == "weekly":
            if day not in DAYS:
                raise ValueError(f"pick a day of the week ({', '.join(DAYS)})")
            return f"{minutes} {hour} * * {_DAY_FIELDS[DAYS.index(day)]}"
        return f"{minutes} {hour} {_number(day_of_month, 'the day of the month', 1, 31)} * *"
    raise ValueError(f"unknown pattern '{pattern}' (one of {', '.join(p.key for p in PATTERNS)})")
