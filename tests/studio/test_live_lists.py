"""The executions list and the triggers page follow the process's one change feed (engine/runtime/changes.py,
through studio/live.py list_changes): an open tab reads its rows when something changed, never on a timer of its
own (which would be one database poller per tab)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import studio.pages


def _state_class(name: str) -> type:
    """Found wherever the page lives (a module or a folder of studio/pages)."""
    for module in pkgutil.walk_packages(studio.pages.__path__, "studio.pages."):
        found = getattr(importlib.import_module(module.name), name, None)
        if inspect.isclass(found):
            return found
    raise AssertionError(f"no {name} in studio/pages")


def _handler_source(state: str, handler: str) -> str:
    event = getattr(_state_class(state), handler)
    return inspect.getsource(getattr(event, "fn", event))


def test_the_live_lists_wait_for_the_shared_change_feed_instead_of_polling_per_tab():
    for state, handler in (("ExecutionsState", "refresh_running"), ("TriggersState", "watch")):
        source = _handler_source(state, handler)
        assert "list_changes(" in source, (state, handler)
        assert "sleep(" not in source, (state, handler)  # a per-tab timer is a per-tab poller
