from engine.tasks import registry


def test_builtin_types_are_registered():
    for name in (
        "log",
        "return",
        "sleep",
        "fail",
        "shell",
        "python",
        "http.request",
        "sequential",
        "parallel",
        "switch",
        "if",
        "foreach",
        "subflow",
        "pause",
        "kv.set",
        "kv.get",
        "kv.delete",
    ):
        assert registry.get(name) is not None, name


def test_every_type_exports_a_json_schema_with_palette_metadata():
    catalog = registry.catalog()
    assert set(catalog) == set(registry.names())
    for name, schema in catalog.items():
        meta = schema["x-lanner"]
        assert meta["type"] == name and meta["title"] and meta["summary"] and meta["group"] and meta["icon"]
        assert "id" in schema["required"] and "type" in schema["required"]
        assert "dependsOn" in schema["properties"] and "allowFailure" in schema["properties"]
    assert catalog["http.request"]["properties"]["method"]["$ref"].endswith("HttpMethod")
    assert catalog["parallel"]["x-lanner"]["taskLists"] == ["tasks", "errors", "finally"]
    assert catalog["log"]["properties"]["timeout"]["anyOf"][0]["format"] == "duration"


def test_did_you_mean():
    assert registry.suggest("htp.request") == "http.request"
    assert registry.suggest("zzzzzz") is None
