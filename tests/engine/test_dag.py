from engine.core import dag


def test_plain_list_is_sequential():
    order = dag.predecessors([("a", None), ("b", None), ("c", None)])
    assert order == {"a": [], "b": ["a"], "c": ["b"]}


def test_depends_on_overrides_position_and_empty_list_starts_at_once():
    order = dag.predecessors([("a", None), ("b", []), ("c", ["a", "b"]), ("d", None)])
    assert order == {"a": [], "b": [], "c": ["a", "b"], "d": ["c"]}
    assert dag.entry_ids(order) == ["a", "b"]
    assert dag.exit_ids(order) == ["d"]


def test_parallel_lists_start_everything_unless_told():
    order = dag.predecessors([("a", None), ("b", None), ("c", ["a"])], parallel=True)
    assert order == {"a": [], "b": [], "c": ["a"]}
    assert dag.exit_ids(order) == ["b", "c"]


def test_cycles_are_named():
    assert dag.find_cycle({"a": ["c"], "b": ["a"], "c": ["b"]}) == ["a", "c", "b", "a"]
    assert dag.find_cycle({"a": ["a"]}) == ["a", "a"]
    assert dag.find_cycle({"a": [], "b": ["a"], "c": ["a", "b"]}) is None
