"""Expressions on their own: values inside text, and bounds on time and size."""

from __future__ import annotations

import time

import pytest

from engine.core.expressions import ExpressionError, render, render_text

LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"

HOSTILE = {
    "power": "{{ (7 ** 30000000) > 0 }}",
    "text repeated": "x {{ 'a' * 10**9 }}",
    "list repeated": "{{ [1] * 10**9 }}",
    "range": "{{ range(10**9)|list }}",
    "nested loops": LOOPS,
    "nested loops over a list": "{% set r = range(100000)|list %}{% for i in r %}{% for j in r %}x{% endfor %}{% endfor %}",
    "join of a huge range": "{{ range(100000)|join('x' * 1000) }}",
    "format filter width": "{{ '%0999999999d'|format(1) }}",
    "percent width": "{{ '%0999999999d' % 1 }}",
    "format method width": "{{ '{:>999999999}'.format(1) }}",
    "lipsum": "{{ lipsum(10**6) }}",
    "center": "{{ 'x'|center(10**9) }}",
    "ljust": "{{ 'x'.ljust(10**9) }}",
    "doubling with ~": "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "squaring": "{% set ns = namespace(n=2) %}{% for i in range(60) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
    "replace": "{{ ('a' * 100000)|replace('', 'b' * 1000) }}",
    "batch fill": "{{ [1]|batch(10**9, 0)|list }}",
    "indent": "{{ ('a\\n' * 100000)|indent(100000) }}",
    "output": "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
}


@pytest.mark.parametrize("expression", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_expressions_fail_fast_with_a_clear_message(expression: str):
    started = time.monotonic()
    with pytest.raises(ExpressionError) as failed:
        render_text(expression, {})
    assert time.monotonic() - started < 1.5
    reason = failed.value.reason
    assert any(
        clue in reason
        for clue in ("LANNER_EXPRESSION_MAX_SIZE", "LANNER_EXPRESSION_TIMEOUT", "bits, more than", "MAX_RANGE")
    ), reason


def test_the_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LANNER_EXPRESSION_TIMEOUT", "0.2")
    started = time.monotonic()
    with pytest.raises(ExpressionError, match=r"took longer than 0.2s \(LANNER_EXPRESSION_TIMEOUT=0.2s\)"):
        render_text(LOOPS, {})
    assert time.monotonic() - started < 0.6
    monkeypatch.setenv("LANNER_EXPRESSION_MAX_SIZE", "100")
    with pytest.raises(ExpressionError, match="more than 100 allowed"):
        render_text("{{ 'a' * 101 }}", {})
    assert render_text("{{ 'a' * 100 }}", {}) == "a" * 100


def test_one_budget_covers_every_text_of_a_value(monkeypatch):
    monkeypatch.setenv("LANNER_EXPRESSION_TIMEOUT", "0.5")
    context = {"wait": lambda: time.sleep(0.2)}
    assert render(["{{ wait() }}", "{{ wait() }}"], context) == [None, None]
    with pytest.raises(ExpressionError, match="LANNER_EXPRESSION_TIMEOUT"):
        render(["{{ wait() }}"] * 4, context)


def test_ordinary_expressions_still_work():
    context = {"inputs": {"n": 3, "names": ["a", "b"]}}
    assert render_text("{{ inputs.n ** 2 * 10 + 1 }}", context) == 91
    assert render_text("{{ 'ab' * 3 }}-{{ inputs.names|join(',') }}", context) == "ababab-a,b"
    assert render_text("{% for n in inputs.names %}{{ loop.index }}{{ n }}{% endfor %}", context) == "1a2b"
    assert render_text("{{ '%05d'|format(42) }} {{ '{:>4}'.format('x') }} {{ '%s!' % 'hi' }}", {}) == "00042    x hi!"
    assert render_text("{{ range(3)|list }}", {}) == [0, 1, 2]
    assert render_text("{{ 'order 123456789012: %s' % 5 }}", {}) == "order 123456789012: 5"  # not a width
    assert render_text("{{ 2 ** 99999 > 0 }}", {}) is True


CONTEXT = {
    "map": {"a": 1, "b": [True, None]},
    "list": [1, "two", {"three": 3}],
    "yes": True,
    "no": False,
    "nothing": None,
    "number": 2.5,
    "text": "héllo",
    "nested": {"order": {"lines": [{"gift": False}]}},
}
INSIDE_TEXT = {
    "map": '{"a": 1, "b": [true, null]}',
    "list": '[1, "two", {"three": 3}]',
    "yes": "true",
    "no": "false",
    "nothing": "",
    "number": "2.5",
    "text": "héllo",
    "nested": '{"order": {"lines": [{"gift": false}]}}',
}


@pytest.mark.parametrize("name", CONTEXT)
def test_values_inside_text_read_as_json_true_false_and_nothing(name: str):
    assert render_text(f"<{{{{ {name} }}}}>", CONTEXT) == f"<{INSIDE_TEXT[name]}>"
    assert render_text(f"{{{{ '<' ~ {name} ~ '>' }}}}", CONTEXT) == f"<{INSIDE_TEXT[name]}>"


@pytest.mark.parametrize("name", CONTEXT)
def test_a_whole_expression_keeps_the_value_and_its_type(name: str):
    assert render_text(f"{{{{ {name} }}}}", CONTEXT) == CONTEXT[name]
    assert type(render_text(f"  {{{{ {name} }}}} ", CONTEXT)) is type(CONTEXT[name])


def test_join_reads_items_as_text_too():
    assert render_text("{{ [true, none, {'a': 1}]|join(' ') }}", {}) == 'true  {"a": 1}'
