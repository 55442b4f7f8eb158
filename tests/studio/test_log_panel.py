"""The log panels' filter and the view models built from the services' rows, without a browser."""

from __future__ import annotations

import datetime as dt

from studio.components.logs import ALL_LEVELS, LogLine, visible_lines
from studio.forms import FormField, flow_fields
from studio.pages.audit.state import AuditRow
from studio.pages.editor.history import Revision
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
    at = dt.datetime(2026, 11, 29, 10, 0, 0)
    row = {"id": 7, "task_id": "t", "level": "INFO", "timestamp": at, "message": "hello"}
    assert LogLine.of(row) == LogLine(id=7, task_id="t", level="INFO", text="10:00:00 INFO  t hello")
    own = {"id": 8, "task_id": "", "level": "ERROR", "timestamp": at, "message": "boom"}
    assert LogLine.of(own).text == "10:00:00 ERROR - boom"  # the execution's own lines name no task


def test_the_execution_header_reads_the_detail_the_service_returns():
    info = {
        "namespace": "team", "flow": "etl", "revision": 3, "state": "PAUSED",
        "created": dt.datetime(2026, 11, 29, 10, 0, 0), "started": dt.datetime(2026, 11, 29, 10, 0, 1),
        "ended": None, "duration_ms": 150_500, "trigger": "manual", "labels": {"team": "data", "env": "prod"},
        "error": "", "inputs": {"n": 1}, "outputs": {}, "running": True, "paused": True,
        "held": False, "task_ids": ["a", "b"], "resume_inputs": [{"id": "approve", "type": "BOOLEAN"}],
        "may_kill": True, "may_restart": False, "may_resume": True, "may_share": False,
        "waiting": "", "id": "abcdef1234", "source": "id: etl",  # read by the state, not shown as such
    }  # fmt: skip
    header = ExecutionHeader.of(info)
    assert header.running is True and header.task_ids == ["a", "b"]
    assert (header.short, header.revision, header.created, header.started, header.ended) == (
        "abcdef12", "3", "2026-11-29 10:00:00", "2026-11-29 10:00:01", ""
    )  # fmt: skip
    assert (header.duration, header.labels) == ("2 min 30 s", "team:data, env:prod")
    assert (header.inputs_json, header.outputs_json) == ('{\n  "n": 1\n}', "{}")
    assert header.resume_inputs == [ResumeInput(id="approve", type="BOOLEAN")]


def test_every_form_field_fits_the_form_field_model():
    fields = [FormField(**field) for field in flow_fields({"id": "etl", "namespace": "team"})]
    assert {"id", "namespace"} <= {field.name for field in fields}


def test_an_audit_event_and_a_revision_are_worded_by_their_pages():
    event = {"id": 9, "at": dt.datetime(2026, 11, 29, 10, 0, 5), "actor": "ann", "action": "deployed",
             "namespace": "team", "target_kind": "flow", "target_id": "team/etl", "details": {"revision": 3}}  # fmt: skip
    row = AuditRow.of(event)
    assert (row.id, row.at, row.target, row.details) == ("9", "2026-11-29 10:00:05", "flow team/etl", '{"revision": 3}')
    assert AuditRow.of({**event, "target_kind": "", "target_id": "", "details": {}}).target == ""
    found = {"revision": 2, "created": dt.datetime(2026, 11, 29, 10, 0, 5), "author": None, "deleted": True}
    assert Revision.of(found) == Revision(revision="2", created="2026-11-29 10:00:05", author="-", deleted="yes")
