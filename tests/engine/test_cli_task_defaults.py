"""``lanner namespace task-defaults get|set`` on a real database."""

from __future__ import annotations


def test_set_then_get_with_inheritance_and_a_clear_refusal(lanner, tmp_path):
    good = tmp_path / "defaults.yml"
    good.write_text("- type: http.request\n  values:\n    headers: {X-Team: sales}\n")
    assert b"1 task default(s) set on acme" in lanner("namespace", "task-defaults", "set", "acme", str(good)).stdout
    assert lanner("namespace", "task-defaults", "get", "acme").stdout.decode() == good.read_text()
    child = lanner("namespace", "task-defaults", "get", "acme.sales").stdout.decode()
    assert child.startswith("# inherited from acme:\n#   - type: http.request"), child
    bad = tmp_path / "bad.yml"
    bad.write_text("- type: http.request\n  values:\n    followRedirects: perhaps\n  colour: red\n")
    refused = lanner("namespace", "task-defaults", "set", "acme", str(bad), check=False)
    assert refused.returncode != 0
    assert b":4:3: unknown property 'colour'" in refused.stderr, refused.stderr
    bad.write_text("- type: http.request\n  values:\n    followRedirects: perhaps\n")
    refused = lanner("namespace", "task-defaults", "set", "acme", str(bad), check=False)
    assert b":3:22: followRedirects: Input should be a valid boolean" in refused.stderr, refused.stderr
    assert lanner("namespace", "task-defaults", "get", "acme").stdout.decode() == good.read_text()  # unchanged
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    lanner("namespace", "task-defaults", "set", "acme", str(empty))
    assert lanner("namespace", "task-defaults", "get", "acme").stdout.decode() == ""
