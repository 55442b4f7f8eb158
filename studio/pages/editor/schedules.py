"""The flow settings' schedules: each schedule trigger's cron in plain words, and a builder that writes one."""

from dataclasses import dataclass
from typing import Any

import reflex as rx

from engine.flows.yaml_source import parse_yaml
from studio.components.cron_builder import cron_builder, cron_words
from studio.pages.editor.forms import FormsState
from studio.services.cron_words import build_cron, cron_hint, cron_in_words

NEW = "+new"  # the builder's target when it adds a schedule trigger rather than changing one


@dataclass
class Schedule:
    id: str = ""
    cron: str = ""
    words: str = ""
    error: str = ""


def _triggers(text: str) -> list[Any]:
    data = parse_yaml(text).data if text else None
    triggers = data.get("triggers") if isinstance(data, dict) else None
    return triggers if isinstance(triggers, list) else []


class SchedulesState(FormsState):
    builder_target: str = ""  # the trigger id the builder writes to ("" closed, NEW adds one)
    builder_pattern: str = "weekdays"
    builder_every: str = "15"
    builder_minute: str = "0"
    builder_time: str = "09:00"
    builder_day: str = "Monday"
    builder_day_of_month: str = "1"

    @rx.var
    def schedules(self) -> list[Schedule]:
        found = []
        for trigger in _triggers(self._form_text):
            if isinstance(trigger, dict) and trigger.get("type", "schedule") == "schedule" and "key" not in trigger:
                cron = "" if trigger.get("cron") is None else str(trigger.get("cron"))
                found.append(Schedule(id=str(trigger.get("id", "")), cron=cron, **cron_hint(cron)))
        return found

    def _built(self) -> tuple[str, str, str]:
        try:
            cron = build_cron(
                self.builder_pattern,
                every=self.builder_every,
                minute=self.builder_minute,
                time=self.builder_time,
                day=self.builder_day,
                day_of_month=self.builder_day_of_month,
            )
            return cron, cron_in_words(cron), ""
        except ValueError as exc:
            return "", "", str(exc)

    @rx.var
    def built(self) -> str:
        return self._built()[0]

    @rx.var
    def built_words(self) -> str:
        return self._built()[1]

    @rx.var
    def built_error(self) -> str:
        return self._built()[2]

    @rx.event
    def open_builder(self, trigger_id: str) -> None:
        self.builder_target = "" if self.builder_target == trigger_id else trigger_id

    @rx.event
    def set_builder_field(self, name: str, value: str) -> None:
        if name in ("pattern", "every", "minute", "time", "day", "day_of_month"):
            setattr(self, f"builder_{name}", value)

    @rx.event
    def use_built(self) -> None:
        """Write the built expression into the trigger (or a new schedule trigger), through the triggers field."""
        cron = self.built
        if not cron or not self.builder_target:
            return
        rows = [dict(t) if isinstance(t, dict) else t for t in _triggers(self._form_text)]
        if self.builder_target == NEW:
            taken = {str(t.get("id")) for t in rows if isinstance(t, dict)}
            number = 1
            while f"schedule_{number}" in taken:
                number += 1
            rows.append({"id": f"schedule_{number}", "type": "schedule", "cron": cron})
        else:
            for row in rows:
                if isinstance(row, dict) and str(row.get("id")) == self.builder_target:
                    row["cron"] = cron
        self.builder_target = ""
        self.set_field("triggers", rows)


def _schedule(schedule: rx.Var[Schedule]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(schedule.id, size="1", weight="bold"),
            rx.code(schedule.cron, size="1"),
            rx.spacer(),
            rx.cond(
                SchedulesState.can_edit,
                rx.button(
                    "Build…",
                    size="1",
                    variant="ghost",
                    on_click=SchedulesState.open_builder(schedule.id),
                    class_name="cron-build",
                    aria_label="Build the schedule of " + schedule.id,
                ),
            ),
            width="100%",
            align="center",
        ),
        cron_words(schedule.words, schedule.error),
        rx.cond(SchedulesState.builder_target == schedule.id, cron_builder(SchedulesState)),
        spacing="1",
        width="100%",
        class_name="schedule-row",
        custom_attrs={"data-trigger": schedule.id},
    )


def schedules_section() -> rx.Component:
    """Below the triggers rows: when each schedule runs, in words, and a builder for a new or changed schedule."""
    return rx.vstack(
        rx.foreach(SchedulesState.schedules, _schedule),
        rx.cond(
            SchedulesState.can_edit,
            rx.button(
                "Add a schedule…",
                size="1",
                variant="soft",
                on_click=SchedulesState.open_builder(NEW),
                id="cron-add-schedule",
            ),
        ),
        rx.cond(SchedulesState.builder_target == NEW, cron_builder(SchedulesState)),
        spacing="2",
        width="100%",
        id="schedules",
    )
