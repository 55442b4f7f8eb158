"""The log panels' filter and the view models built from the services' rows, without a browser."""

from __future__ import annotations

from studio.components.logs import ALL_LEVELS, LogLine, visible_lines
from studio.forms import FormField, flow_fields
from studio.pages.execution.state import ExecutionHeader, ResumeInput

LINES = [
    LogLine(id=1, task_id="", level="INFO", text="10:00:00 INFO  - started"),
    LogLine(id=2, task_id="extract", level="DEBUG", text="10:00:01 DEBUG extract connecting"),
    LogLine(id=3, task_id="extract", level="ERROR", text="10:00:02 ERROR extract Timeout"),
    LogLine(id=4, task_id="load", level="WARN", text="10:00:03 WARN  load slow"),
]


def ids(lines: list[LogLine]) -> list[int]:
    return [line.id for line in lines]


def test_the_filter_keeps_one_tasks_lines_at_or_above_a_level_matching_the_search():
    assert ids(visible_lines(LINES, task_id="", level=ALL_LEVELS, search="")) == [1, 2, 3, 4]
    assert ids(visible_lines(LINES, task_id="extract", level=ALL_LEVELS, search="")) == [2, 3]
    assert ids(visible_lines(LINES, task_id="", level="WARN", search="")) == [3, 4]
    assert ids(visible_lines(LINES, task_id="", level="DEBUG", search="timeout")) == [3]


def test_a_log_row_of_the_services_becomes_a_line():
    row = {"id": 7, "task_id": "t", "level": "INFO", "text": "10:00:00 INFO  t hello"}
    assert LogLine.of(row) == LogLine(id=7, task_id="t", level="INFO", text="10:00:00 INFO  t hello")


def test_the_execution_header_reads_the_detail_the_service_returns():
    info = {
        "short": "abcdef12", "namespace": "team", "flow": "etl", "revision": "3", "state": "PAUSED",
        "created": "2026-11-29 10:00:00", "started": "", "ended": "", "duration": "", "trigger": "manual",
        "labels": "", "error": "", "inputs_json": "{}", "outputs_json": "{}", "running": "yes", "paused": True,
        "held": False, "task_ids": ["a", "b"], "resume_inputs": [{"id": "approve", "type": "BOOLEAN"}],
        "may_kill": True, "may_restart": False, "may_resume": True, "may_share": False,
        "id": "abcdef1234", "source": "id: etl", "trigger_json": "{}",  # read by the state, not shown as such
    }  # fmt: skip
    header = ExecutionHeader.of(info)
    assert header.running is True and header.task_ids == ["a", "b"]
    assert header.resume_inputs == [ResumeInput(id="approve", type="BOOLEAN")]


def test_every_form_field_fits_the_form_field_model():
    fields = [FormField(**field) for field in flow_fields({"id": "etl", "namespace": "team"})]
    assert {"id", "namespace"} <= {field.name for field in fields}
