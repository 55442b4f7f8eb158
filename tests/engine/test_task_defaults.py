"""Flow-level taskDefaults: applied by the loader to every task at any depth, the text kept as written."""

from __future__ import annotations

from engine.flows.loader import load_flow
from engine.flows.tree import find_task

FLOW = """\
id: defaults
namespace: acme.sales
taskDefaults:
  - type: notify.
    values:
      username: lanner-bot
  - type: notify.slack
    values:
      url: https://hooks.example.com/one
      channel: "#sales"
  - type: http.request
    values:
      headers:
        X-Team: sales
        Accept: text/csv
tasks:
  - id: own
    type: notify.slack
    text: hello
    channel: "#own"
  - id: call
    type: http.request
    uri: http://localhost/x
    headers:
      Accept: application/json
  - id: group
    type: sequential
    tasks:
      - id: inner
        type: notify.slack
        text: inner
errors:
  - id: alert
    type: notify.slack
    text: failed
"""


def test_defaults_fill_what_tasks_leave_out_at_any_depth():
    result = load_flow(FLOW)
    assert result.ok, result.problems
    flow = result.flow
    own = find_task(flow, "own")
    assert (own.url, own.channel, own.username) == ("https://hooks.example.com/one", "#own", "lanner-bot")
    inner, alert = find_task(flow, "inner"), find_task(flow, "alert")
    assert inner.url == alert.url == "https://hooks.example.com/one"
    assert inner.channel == "#sales"
    # mappings merge key by key; the task's own key wins
    assert find_task(flow, "call").headers == {"X-Team": "sales", "Accept": "application/json"}
    # the raw data (what the canvas and the form read) is the text's own
    assert "url" not in result.data["tasks"][0]


def test_specific_type_wins_over_prefix_and_forced_overrides_the_task():
    text = """\
id: f
namespace: acme
taskDefaults:
  - type: notify.
    values: {username: broad}
  - type: notify.slack
    values: {username: specific}
  - type: notify.slack
    forced: true
    values: {channel: "#forced"}
tasks:
  - id: a
    type: notify.slack
    url: http://x
    text: t
    channel: "#mine"
"""
    flow = load_flow(text).flow
    task = flow.tasks[0]
    assert (task.username, task.channel) == ("specific", "#forced")


def test_a_bad_default_value_is_reported_at_the_default():
    text = """\
id: f
namespace: acme
taskDefaults:
  - type: http.request
    values:
      followRedirects: perhaps
tasks:
  - id: a
    type: http.request
    uri: http://x
  - id: b
    type: http.request
    uri: http://y
    followRedirects: maybe
"""
    problems = load_flow(text).problems
    places = {(p.line, p.column) for p in problems}
    assert (6, 24) in places, problems  # the default's value, for task a
    assert (14, 22) in places, problems  # task b's own value
    assert any("from taskDefaults" in p.message and "task 'a'" in p.message for p in problems)


def test_unknown_types_and_keys_are_reported():
    text = """\
id: f
namespace: acme
taskDefaults:
  - type: notify.slak
    values: {url: http://x}
  - type: notify.
    values: {colour: red}
tasks:
  - id: a
    type: log
    message: hi
"""
    problems = load_flow(text).problems
    messages = " | ".join(p.message for p in problems)
    assert "did you mean 'notify.slack'" in messages, messages
    assert any(p.line == 7 and "unknown property 'colour'" in p.message for p in problems), problems


def test_a_prefix_gives_each_type_only_the_properties_it_has():
    text = """\
id: f
namespace: acme
taskDefaults:
  - type: notify.
    values: {channel: "#all", port: 2525}
tasks:
  - id: s
    type: notify.slack
    url: http://x
    text: t
  - id: e
    type: notify.email
    host: smtp
    from: a@b.c
    to: [x@y.z]
    subject: s
    body: b
"""
    result = load_flow(text)
    assert result.ok, result.problems
    assert result.flow.tasks[0].channel == "#all"
    assert result.flow.tasks[1].port == 2525


def test_the_form_shows_flow_defaults_as_hints_not_values():
    from studio.services.editor_forms import task_form

    fields = {f["name"]: f for f in task_form(FLOW, "own")}
    assert fields["url"]["text"] == "" and fields["url"]["placeholder"] == (
        "from taskDefaults: https://hooks.example.com/one"
    )
    assert fields["channel"]["text"] == "#own"  # its own value, no hint
    assert fields["username"]["placeholder"] == "from taskDefaults: lanner-bot"


def test_namespace_defaults_text_is_checked_value_by_value():
    from engine.workspace.task_defaults import parse_defaults

    text = '- type: http.request\n  values:\n    followRedirects: perhaps\n    uri: "{{ vars.api }}"\n    nope: 1\n'
    defaults, problems = parse_defaults(text)
    assert defaults == []
    assert [(p.line, p.column) for p in problems] == [(3, 22), (5, 5)], problems
    good, none = parse_defaults("taskDefaults:\n  - type: notify.\n    values: {channel: '#x'}\n")
    assert none == [] and good == [{"type": "notify.", "values": {"channel": "#x"}, "forced": False}]
