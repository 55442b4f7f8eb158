"""Errors rewritten for people (``studio.services.messages``): what failed, where, what to try, the raw kept."""

from __future__ import annotations

import pytest

from engine.flows.yaml_source import parse_yaml
from studio.services import messages


@pytest.mark.parametrize(
    ("raw", "address", "said"),
    [
        ("[Errno 111] Connection refused", "postgresql://u:p@db.local:5432/shop", "Could not reach db.local:5432 — is"),
        (
            'OperationalError: connection to server at "127.0.0.1", port 5999 failed: Connection refused',
            "{{ secret('URL') }}",
            "Could not reach 127.0.0.1:5999 — is the service running?",
        ),
        ("[Errno -2] Name or service not known", "mysql://x@nowhere.example:3306/a", "Could not find the host nowhere"),
        (
            'FATAL:  password authentication failed for user "ana"',
            "db.local:5432",
            "The user name or password was refused by db.local:5432",
        ),
        ('FATAL:  database "shop" does not exist', "postgresql://db.local/shop", "The database 'shop' does not exist"),
        ("no answer within 10 s", "", "No answer from the service in time"),
        (  # the engine's own lead (what failed, where) is kept, the advice added
            "could not connect to postgresql+psycopg://u:***@db.local:1/test: connection failed: Connection refused",
            "postgresql://u:***@db.local:1/test",
            "could not connect to db.local:1 — is the service running? Check the host and port.",
        ),
    ],
)
def test_common_connection_errors_are_rewritten_and_keep_the_raw_error(raw, address, said):
    explained = messages.explain(raw, address)
    assert explained.text.startswith(said) and explained.raw == raw and explained.rewritten


def test_an_unknown_error_is_shown_as_it_is():
    explained = messages.explain("the moon is in the wrong phase")
    assert explained.text == explained.raw == "the moon is in the wrong phase" and not explained.rewritten


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("id: x\nmessage: time: 10:00\n", "line 2, column 14: a colon needs a space after it, or quote the value"),
        ("id: x\ntasks:\n  - a\n b: 1\n", "is not indented like the lines it belongs with"),
        ('id: "x\n', "a quote or bracket is opened but never closed"),
        ("id: [x, y\n", "a [ ... ] list is not closed"),
        ("id: x\n\tb: 1\n", "indent with spaces, or put the value in quotes"),
        ("id: x\nnamespace\n", "a key is missing its colon"),
    ],
)
def test_the_yaml_parsers_complaints_are_rewritten_with_their_place(text, said):
    problem = parse_yaml(text).problems[0]
    explained = messages.yaml_problem(problem.line, problem.column, problem.message)
    assert explained.text.startswith("YAML syntax error on line") and said in explained.text, explained.text
    assert explained.raw == f"{problem.line}:{problem.column}: {problem.message}" and explained.rewritten


def test_a_problem_already_written_for_people_has_no_details():
    explained = messages.yaml_problem(4, 3, "task 'x': message: Field required")
    assert explained.text == "Line 4, column 3: task 'x': message: Field required" and not explained.rewritten
