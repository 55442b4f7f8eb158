"""Which widget each property gets, and how form values go back into the YAML (no browser needed)."""

from __future__ import annotations

import pytest

from engine.flows.loader import load_flow, load_flow_or_raise
from engine.tasks import registry
from studio import forms, services
from studio.services import editor_forms


def kinds(task_type: str) -> dict[str, tuple[str, str]]:
    schema = registry.json_schema(task_type)
    return {f["name"]: (f["kind"], f["language"]) for f in forms.task_fields(schema, {"type": task_type})}


def test_each_property_gets_the_widget_its_schema_calls_for():
    assert kinds("python")["script"] == ("code", "python")
    assert kinds("shell")["commands"] == ("lines", "shell")
    assert kinds("sql.query")["sql"] == ("code", "sql")
    http = kinds("http.request")
    assert http["headers"][0] == "map" and http["method"][0] == "choice" and http["expectedStatus"][0] == "list"
    assert http["timeout"][0] == "duration" and http["followRedirects"][0] == "switch" and http["retry"][0] == "yaml"
    assert http["uri"][0] == "text" and kinds("log")["message"][0] == "text" and kinds("return")["value"][0] == "value"
    assert kinds("foreach")["concurrencyLimit"][0] == "number"


def test_required_first_with_help_text_for_every_property():
    fields = forms.task_fields(registry.json_schema("http.request"), {"type": "http.request"})
    assert fields[0]["name"] == "uri" and fields[0]["required"]
    assert all(f["help"] for f in fields), [f["name"] for f in fields if not f["help"]]


def test_a_choice_left_out_of_the_yaml_shows_its_default():
    def choice(task_type: str, raw: dict) -> str:
        fields = forms.task_fields(registry.json_schema(task_type), {"type": task_type, **raw})
        return next(f["text"] for f in fields if f["name"] in ("level", "method"))

    assert choice("log", {}) == "INFO" and choice("log", {"level": "ERROR"}) == "ERROR"
    assert choice("http.request", {}) == "GET" and choice("http.request", {"method": "POST"}) == "POST"


def test_form_values_become_yaml_values():
    assert forms.value_of("lines", "echo one\n\necho two\n") == ["echo one", "echo two"]
    assert forms.value_of("number", "3") == 3 and forms.value_of("number", "{{ inputs.n }}") == "{{ inputs.n }}"
    assert forms.value_of("value", "4.5") == 4.5 and forms.value_of("text", "12") == "12"
    assert forms.value_of("yaml", "{type: constant, interval: 5s}") == {"type": "constant", "interval": "5s"}
    assert forms.value_of("text", "") is None and forms.value_of("map", {}) is None
    with pytest.raises(forms.FieldError, match=r"retry: not valid YAML \(line 1, column \d+\)"):
        forms.value_of("yaml", "{type: [", "retry")
    rows = [{"id": "n", "type": "INT", "defaults": "5", "required": True}, {"id": " ", "type": "STRING"}]
    assert forms.value_of("records", rows, "inputs") == [{"id": "n", "type": "INT", "defaults": 5}]


def test_every_palette_item_dropped_on_a_flow_makes_a_valid_flow():
    text = "id: f\nnamespace: n\ntasks:\n  - id: first\n    type: log\n    message: hi\n"
    for entry in services.palette():
        task = services.new_task(text, entry["type"])
        changed = services.edit(text, "insert_task", task=task)
        assert load_flow(changed).ok, (entry["type"], [str(p) for p in load_flow(changed).problems])
    assert {"Databases", "Notifications"} <= {entry["group"] for entry in services.palette()}


def test_flow_settings_form_writes_each_setting():
    text = "# owned by data\nid: f\nnamespace: n\n\ntasks:\n  - id: first\n    type: log\n    message: hi\n"
    names = [f["name"] for f in services.flow_form(text)]
    assert names[:7] == ["id", "namespace", "description", "labels", "inputs", "variables", "triggers"]
    text = services.set_flow_setting(text, "concurrency.behavior", "cancel")  # no limit yet: nothing to write
    assert "concurrency" not in text
    text = services.set_flow_setting(text, "concurrency.limit", 2)
    text = services.set_flow_setting(text, "concurrency.behavior", "cancel")
    text = services.set_flow_setting(text, "labels", {"team": "data"})
    trigger = {"id": "t", "type": "schedule", "cron": "0 * * * *", "key": ""}
    text = services.set_flow_setting(text, "triggers", forms.value_of("records", [trigger], "triggers"))
    flow = load_flow_or_raise(text)
    assert (
        flow.concurrency.limit == 2 and flow.concurrency.behavior.value == "cancel" and flow.labels == {"team": "data"}
    )
    assert flow.triggers[0].cron == "0 * * * *" and text.startswith("# owned by data\nid: f\nnamespace: n\n")
    text = services.set_flow_setting(text, "concurrency.limit", None)
    assert "concurrency" not in text


def test_expression_names_list_inputs_variables_and_task_outputs():
    text = (
        "id: f\nnamespace: n\ninputs:\n  - {id: day, type: DATE}\nvariables: {table: t}\n"
        "tasks:\n  - {id: q, type: return, value: 1}\n"
    )
    labels = [n["label"] for n in services.expression_names(text, {"q": {"value": 1, "extra": 2}})]
    assert {"inputs.day", "vars.table", "outputs.q.value", "outputs.q.extra", "execution.id"} <= set(labels)
    assert {"secret('NAME')", "kv('KEY')"} <= set(labels)


def test_a_dropped_connector_starts_from_its_example_fitted_to_the_flow():
    if registry.get("data.transform") is None or registry.get("sqlite.query") is None:
        pytest.skip("data.transform and sqlite.query are not registered in this checkout")
    text = "id: f\nnamespace: n\ntasks:\n  - {id: orders, type: sqlite.query, sql: SELECT 1 AS one, fetch: STORE}\n"
    transform = services.new_task(text, "data.transform")
    assert transform["from"] == "{{ outputs.orders.uri }}" and transform["steps"]  # reads the file before it
    query = services.new_task(text, "sqlite.query")
    assert "parameters" not in query and query["sql"]  # the example's :day reads an input this flow lacks
    assert load_flow(services.edit(text, "insert_task", task=transform)).ok


def test_flow_settings_form_edits_the_sla_list_entry_by_entry():
    text = (
        "id: f\nnamespace: n\ntasks:\n  - {id: load, type: return, value: 3}\n"
        "sla:\n  - id: by_7am  # the morning report\n    type: MAX_DURATION\n    duration: PT45M\n"
        "    labels: {sla: missed}\n"
    )
    (field,) = [f for f in services.flow_form(text) if f["name"] == "sla"]
    assert [c["name"] for c in field["columns"]] == ["id", "type", "duration", "assert", "behavior"]
    rows = [*field["value"], {"id": "rows", "type": "assertion", "assert": "{{ outputs.load.value > 1 }}", "behavior": "none", "duration": ""}]  # fmt: skip
    text = editor_forms.set_flow_records(text, "sla", rows)
    flow = load_flow_or_raise(text)
    assert [(s.id, s.kind.value, s.behavior.value) for s in flow.sla] == [
        ("by_7am", "maxDuration", "fail"),
        ("rows", "assertion", "none"),
    ]
    assert "# the morning report" in text and flow.sla[0].labels == {"sla": "missed"}  # an untouched entry stays
