import pytest
from pydantic import TypeAdapter

from engine.flows.inputs import Input, resolve_inputs

adapter = TypeAdapter(list[Input])


def _declare(*items: dict):
    return adapter.validate_python(list(items))


def test_every_input_type_coerces_its_values():
    declared = _declare(
        {"id": "s", "type": "STRING", "validator": "[A-Z]{3}"},
        {"id": "i", "type": "INT", "min": 1, "max": 10},
        {"id": "f", "type": "FLOAT"},
        {"id": "b", "type": "BOOLEAN"},
        {"id": "d", "type": "DATE"},
        {"id": "dt", "type": "DATETIME"},
        {"id": "du", "type": "DURATION"},
        {"id": "sel", "type": "SELECT", "values": ["a", "b"]},
        {"id": "ms", "type": "MULTISELECT", "values": ["a", "b"]},
        {"id": "j", "type": "JSON"},
        {"id": "sec", "type": "SECRET"},
        {"id": "file", "type": "FILE", "required": False},
    )
    values, errors = resolve_inputs(
        declared,
        {
            "s": "ABC",
            "i": "7",
            "f": 2.5,
            "b": "true",
            "d": "2026-01-02",
            "dt": "2026-01-02T06:00:00+01:00",
            "du": "PT90S",
            "sel": "b",
            "ms": "a,b",
            "j": '{"k": [1]}',
            "sec": "hunter2",
        },
    )
    assert errors == {}
    assert values == {
        "s": "ABC",
        "i": 7,
        "f": 2.5,
        "b": True,
        "d": "2026-01-02",
        "dt": "2026-01-02T06:00:00+01:00",
        "du": "1m30s",
        "sel": "b",
        "ms": ["a", "b"],
        "j": {"k": [1]},
        "sec": "hunter2",
        "file": None,
    }


@pytest.mark.parametrize(
    ("declaration", "value", "fragment"),
    [
        ({"type": "STRING", "validator": "[A-Z]{3}"}, "abc", "does not match"),
        ({"type": "INT", "max": 5}, 6, "above the maximum 5"),
        ({"type": "INT"}, 1.5, "not an integer"),
        ({"type": "BOOLEAN"}, "maybe", "not true or false"),
        ({"type": "DATE"}, "2026-02-30", "not a date"),
        ({"type": "SELECT", "values": ["a"]}, "z", "not one of a"),
        ({"type": "JSON"}, "{oops", "invalid JSON"),
        ({"type": "DURATION"}, "soon", "not a duration"),
    ],
)
def test_bad_values_say_why(declaration: dict, value, fragment: str):
    (declared,) = _declare({"id": "x", **declaration})
    _, errors = resolve_inputs([declared], {"x": value})
    assert fragment in errors["x"]


def test_required_and_unknown_inputs():
    declared = _declare({"id": "a", "type": "STRING"}, {"id": "b", "type": "INT", "defaults": 3})
    values, errors = resolve_inputs(declared, {"zzz": 1})
    assert errors == {"zzz": "unknown input 'zzz'", "a": "input 'a' is required"}
    assert values == {"b": 3}


def test_an_empty_default_is_an_empty_text_not_a_missing_input():
    declared = _declare(
        {"id": "note", "type": "STRING", "required": False, "defaults": ""},
        {"id": "other", "type": "STRING", "required": False},
    )
    assert resolve_inputs(declared, {}) == ({"note": "", "other": None}, {})
    assert resolve_inputs(declared, {"note": "", "other": ""}) == ({"note": "", "other": None}, {})


def test_a_file_value_must_be_an_upload_of_the_flow_but_a_default_is_the_flows_own(tmp_path):
    from engine.workspace import uploads

    home = tmp_path / "home"
    _, stored = uploads.store_local(home, "ns", "f", {"data": _write(tmp_path / "d.csv")})
    uploaded = uploads.accept_uploads(home, "ns", "f")
    (declared,) = _declare({"id": "data", "type": "FILE"})
    refused = "input 'data': a FILE input must be uploaded (multipart/form-data); a server path is not accepted"
    assert resolve_inputs([declared], {"data": stored["data"]}, uploaded=uploaded) == (stored, {})
    assert resolve_inputs([declared], {"data": stored["data"]}) == ({}, {"data": refused})  # no check, no file
    for value in ("/etc/passwd", f"{stored['data']}/../../../../../d.csv", str(tmp_path / "d.csv")):
        assert resolve_inputs([declared], {"data": value}, uploaded=uploaded) == ({}, {"data": refused}), value
    (with_default,) = _declare({"id": "data", "type": "FILE", "defaults": "/srv/reference.csv"})
    assert resolve_inputs([with_default], {}, uploaded=uploaded) == ({"data": "/srv/reference.csv"}, {})


def _write(path):
    path.write_text("a,b\n")
    return path
