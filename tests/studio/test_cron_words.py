"""Cron in plain words next to every cron field, and the builder of common schedules: the service, the editor's
flow settings (trigger rows) and the Triggers page."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.core.schedule import fire_times
from engine.flows.triggers import check_cron
from engine.identity import authz
from engine.services.flow_deploy import deploy_flow
from engine.store.database import session_scope
from studio.pages.triggers.state import trigger_row
from studio.services import triggers
from studio.services.cron_words import PATTERNS, build_cron, cron_hint, cron_in_words

MONDAY = dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)  # a Monday


@pytest.mark.parametrize(
    ("cron", "words"),
    [
        ("0 9 * * MON-FRI", "At 09:00, Monday through Friday"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("0 * * * *", "Every hour"),
        ("30 8 1 * *", "At 08:30, on day 1 of the month"),
        ("@daily", "At 00:00"),
        ("0 0 18 * * SUN", "At 18:00, only on Sunday"),  # six fields: seconds first, as Lanner reads them
        ("  0   6 * * *  ", "At 06:00"),
    ],
)
def test_cron_in_words(cron, words):
    assert cron_in_words(cron) == words


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("61 * * * *", "the minute field is 61, but it must be from 0 to 59"),
        ("0 0 25 * * *", "the hour field is 25"),  # six fields: the seconds come first
        ("0 25 * * *", "the hour field is 25, but it must be from 0 to 23"),
        ("0 9 * 13 *", "the month field is 13"),
        ("0 9 * *", "has 4 fields; expected 5"),
        ("0 9 * * FOO", "invalid cron '0 9 * * FOO'"),
        ("@often", "unknown cron alias '@often'"),
        ("", "the schedule is empty"),
    ],
)
def test_an_invalid_cron_gets_a_clear_message(cron, message):
    hint = cron_hint(cron)
    assert hint["words"] == "" and message in hint["error"]
    with pytest.raises(ValueError, match=r"cron|schedule"):
        cron_in_words(cron)


def test_what_the_words_accept_is_what_a_deployed_flow_accepts():
    for cron in ("0 9 * * MON-FRI", "*/5 * * * *", "@weekly", "0 0 9 * * *"):
        check_cron(cron)
        assert cron_hint(cron)["error"] == ""
    for cron in ("61 * * * *", "x y z a b", "0 9 * *"):
        with pytest.raises(ValueError):
            check_cron(cron)
        assert cron_hint(cron)["error"]


def _next(cron: str, count: int = 3) -> list[dt.datetime]:
    return list(fire_times(cron, "UTC", MONDAY, limit=count))


def test_every_pattern_builds_an_expression_that_fires_as_it_says():
    assert {p.key for p in PATTERNS} == {"every_minutes", "hourly", "daily", "weekdays", "weekly", "monthly"}
    every = build_cron("every_minutes", every="20")
    assert every == "*/20 * * * *" and [t.minute for t in _next(every)] == [20, 40, 0]
    assert build_cron("every_minutes", every="1") == "* * * * *"
    hourly = build_cron("hourly", minute="5")
    assert [(t.hour, t.minute) for t in _next(hourly)] == [(0, 5), (1, 5), (2, 5)]
    daily = build_cron("daily", time="7:30")
    assert daily == "30 7 * * *" and [t.day for t in _next(daily)] == [30, 1, 2]
    weekdays = build_cron("weekdays", time="09:00")
    assert [t.strftime("%a") for t in _next(weekdays, 6)] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]
    weekly = build_cron("weekly", day="Wednesday", time="18:45")
    assert weekly == "45 18 * * WED"
    assert all(t.strftime("%a %H:%M") == "Wed 18:45" for t in _next(weekly))
    monthly = build_cron("monthly", day_of_month="15", time="00:00")
    assert [(t.month, t.day) for t in _next(monthly)] == [(12, 15), (1, 15), (2, 15)]
    for built in (every, hourly, daily, weekdays, weekly, monthly):
        assert cron_in_words(built)


@pytest.mark.parametrize(
    ("pattern", "given", "message"),
    [
        ("every_minutes", {"every": "0"}, "the number of minutes must be a whole number from 1 to 59"),
        ("every_minutes", {"every": "ten"}, "from 1 to 59 (got 'ten')"),
        ("hourly", {"minute": "60"}, "the minute must be a whole number from 0 to 59"),
        ("daily", {"time": "24:00"}, "'24:00' is not a time of day"),
        ("daily", {"time": "9h"}, "write it as HH:MM"),
        ("weekly", {"day": "Funday", "time": "09:00"}, "pick a day of the week"),
        (
            "monthly",
            {"day_of_month": "32", "time": "09:00"},
            "the day of the month must be a whole number from 1 to 31",
        ),
        ("yearly", {}, "unknown pattern 'yearly'"),
    ],
)
def test_the_builder_says_what_is_wrong(pattern, given, message):
    with pytest.raises(ValueError) as raised:
        build_cron(pattern, **given)
    assert message in str(raised.value)


SCHEDULED = """\
id: words
namespace: cron.words
tasks:
  - {id: r, type: return, value: x}
triggers:
  - {id: weekday_mornings, type: schedule, cron: '0 9 * * MON-FRI', timezone: Europe/Paris}
  - {id: hook, type: webhook, key: abcdefgh12345}
"""


def test_the_triggers_list_says_each_schedule_in_words(db):
    with session_scope(db) as session:
        deploy_flow(session, SCHEDULED, author="test")
    rows = {r.trigger_id: r for r in triggers.list_triggers(authz.LOCAL)}
    assert rows["weekday_mornings"].schedule_words == "At 09:00, Monday through Friday"
    assert trigger_row(rows["weekday_mornings"])["words"] == "At 09:00, Monday through Friday"
    assert rows["hook"].schedule_words == "" and trigger_row(rows["hook"])["words"] == ""


EDITED = """\
# Keep this comment.
id: cron_demo
namespace: studio.tests
tasks:
  - {id: r, type: return, value: x}
triggers:
  - {id: nightly, type: schedule, cron: '0 2 * * *'}
"""


def _yaml(page) -> str:
    return page.locator("#yaml-editor .cm-content").inner_text()


@pytest.mark.slow
def test_the_editor_says_each_schedule_in_words_and_builds_one(studio, page):
    page.set_viewport_size({"width": 1440, "height": 900})
    answer = page.request.post(
        f"{studio['url']}/api/v1/flows", data=EDITED,
        headers={"content-type": "application/x-yaml"},
    )  # fmt: skip
    assert answer.ok, answer.text()
    page.goto(f"{studio['url']}/flows/studio.tests/cron_demo")
    page.locator(".lanner-node").first.wait_for(timeout=60_000)
    page.locator("#pane-form").click()
    nightly = page.locator(".schedule-row[data-trigger='nightly']")
    nightly.wait_for(timeout=20_000)
    assert "At 02:00" in nightly.locator(".cron-words").inner_text()

    # The builder writes the expression into that trigger.
    nightly.locator(".cron-build").click()
    page.locator("#cron-builder-pattern").select_option("weekly")
    page.locator("#cron-builder-day").select_option("Friday")
    page.locator("#cron-builder-time").fill("17:30")
    page.locator("#cron-builder-expression", has_text="30 17 * * FRI").wait_for(timeout=10_000)
    assert "At 17:30, only on Friday" in page.locator("#cron-builder-words").inner_text()
    page.locator("#cron-builder-time").fill("25:00")
    page.locator("#cron-builder-words", has_text="not a time of day").wait_for(timeout=10_000)
    assert page.locator("#cron-builder-use").is_disabled()
    page.locator("#cron-builder-time").fill("17:30")
    page.locator("#cron-builder-use").click()
    page.locator(".schedule-row[data-trigger='nightly'] .cron-words", has_text="At 17:30, only on Friday").wait_for(
        timeout=10_000
    )
    page.locator("#pane-yaml").click()
    page.wait_for_function(
        "(document.querySelector('#yaml-editor .cm-content')?.innerText ?? '').includes('30 17 * * FRI')",
        timeout=10_000,
    )
    assert "nightly" in _yaml(page)

    # An invalid cron typed in the YAML gets a clear message: in the problems and beside its trigger.
    page.locator("#yaml-editor .cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text("  - {id: typo, type: schedule, cron: '0 9 * 13 *'}\n")
    problem = page.locator(".problem-line", has_text="the month field is 13, but it must be from 1 to 12")
    problem.wait_for(timeout=20_000)
    page.locator("#pane-form").click()
    typo = page.locator(".schedule-row[data-trigger='typo'] .cron-error")
    typo.wait_for(timeout=20_000)
    assert "the month field is 13, but it must be from 1 to 12" in typo.inner_text()


@pytest.mark.slow
def test_the_triggers_page_says_each_schedule_in_words(studio, page):
    flow = SCHEDULED.replace("namespace: cron.words", "namespace: studio.tests").replace("id: words", "id: worded")
    answer = page.request.post(
        f"{studio['url']}/api/v1/flows", data=flow, headers={"content-type": "application/x-yaml"}
    )
    assert answer.ok, answer.text()
    page.goto(f"{studio['url']}/triggers")
    row = page.locator(".trigger-row[data-flow='worded'][data-trigger='weekday_mornings']")
    row.wait_for(timeout=60_000)
    assert "At 09:00, Monday through Friday" in row.locator(".cron-words").inner_text()
    assert page.locator(".trigger-row[data-flow='worded'][data-trigger='hook'] .cron-words").count() == 0
