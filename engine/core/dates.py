"""Date filters for expressions: ``{{ trigger.date | date_add(-1, 'days') | date('%Y-%m-%d') }}``.

Dates in a run's context are ISO texts (``trigger.date``, ``execution.startDate``, a DATE or DATETIME input), so
both filters take an ISO text (or a date or datetime) and give text back: a value that fits in outputs and reads
the same in every task.
"""

from __future__ import annotations

import datetime as dt
import re

UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}
MAX_FORMAT = 100
# Directives strftime knows, without a width or flag (glibc would pad ``%999999Y`` to a megabyte).
_DIRECTIVE = re.compile(r"%(.)")
_ALLOWED = set("aAbBcdHIjmMpSUwWxXyYzZGuV%")


class DateError(ValueError):
    """A value that is not a date, an unknown unit or format: the message says which."""


def parse_date(value: object) -> dt.date | dt.datetime:
    if isinstance(value, dt.datetime | dt.date):
        return value
    if not isinstance(value, str):
        raise DateError(f"{value!r} is not a date (give an ISO text such as 2026-11-29 or 2026-11-29T06:00:00Z)")
    text = value.strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DateError(f"'{text[:40]}' is not an ISO date or date-time") from None


def date_add(value: object, amount: float, unit: str = "days") -> str:
    """``value`` moved by ``amount`` ``unit`` (seconds, minutes, hours, days, weeks); a date stays a date."""
    seconds = UNITS.get(str(unit).lower())
    if seconds is None:
        raise DateError(f"date_add unit '{unit}' is not one of {', '.join(UNITS)}")
    moment = parse_date(value)
    try:
        moved = moment + dt.timedelta(seconds=float(amount) * seconds)
    except (OverflowError, ValueError, TypeError):
        raise DateError(f"date_add({amount!r}, '{unit}') goes beyond the years 1 to 9999") from None
    return moved.isoformat()


def date_format(value: object, pattern: str = "%Y-%m-%d") -> str:
    """``value`` written with strftime's ``pattern`` (``%Y-%m-%d``, ``%d/%m/%Y %H:%M``)."""
    if not isinstance(pattern, str) or len(pattern) > MAX_FORMAT:
        raise DateError(f"a date format is a text of at most {MAX_FORMAT} characters")
    for directive in _DIRECTIVE.findall(pattern):
        if directive not in _ALLOWED:
            raise DateError(f"date format directive '%{directive}' is not supported (no widths or flags)")
    return parse_date(value).strftime(pattern)
