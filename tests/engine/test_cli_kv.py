"""``lanner kv``, run as real processes."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow  # thirteen lanner processes: over 20 s on a shared machine


def test_kv_set_get_list_delete_with_inheritance_and_clear_refusals(lanner):
    lanner("kv", "set", "acme", "region", "eu")
    lanner("kv", "set", "acme.sales", "cursor", '{"page": 3}', "--ttl", "1h")
    assert json.loads(lanner("kv", "get", "acme.sales", "region").stdout) == "eu"  # inherited
    assert json.loads(lanner("kv", "get", "acme.sales", "cursor").stdout) == {"page": 3}
    listed = lanner("kv", "list", "acme.sales").stdout.decode().splitlines()
    assert listed[0].startswith('cursor={"page": 3}  (expires ') and listed[1] == 'region="eu"  (from acme)'
    as_json = json.loads(lanner("kv", "list", "acme.sales", "--json").stdout)
    assert [(e["key"], e["own"]) for e in as_json] == [("cursor", True), ("region", False)]
    for args, words in [
        (("kv", "set", "acme", "two words", "1"), b"is not a key"),
        (("kv", "set", "acme", "k", "1", "--ttl", "soon"), b"is not a duration"),
        (("kv", "set", "acme", "region", "us", "--no-overwrite"), b"already set in acme"),
        (("kv", "get", "acme", "nothing"), b"no kv key nothing in acme"),
        (("kv", "delete", "acme.sales", "region"), b"no kv region on acme.sales"),  # acme's, not the child's
    ]:
        refused = lanner(*args, check=False)
        assert refused.returncode == 1 and words in refused.stderr, (args, refused.stderr)
        assert b"Traceback" not in refused.stderr
    lanner("kv", "delete", "acme.sales", "cursor")
    assert lanner("kv", "list", "acme.sales").stdout.decode().splitlines() == ['region="eu"  (from acme)']
