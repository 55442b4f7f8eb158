"""The task registry: built-in task types, then those of installed plugins, then the task union.

A plugin package declares an entry point in the ``lanner.tasks`` group naming a ``Task`` subclass
(or a module that registers its classes with ``registry.register``). A task type is a pydantic model
plus a ``run`` method, and nothing else to write::

    [project.entry-points."lanner.tasks"]
    shout = "my_package.tasks:Shout"
"""

import importlib.metadata
import warnings

from engine.flows.model import Flow
from engine.tasks import (  # noqa: F401 - importing registers them
    core,
    data,
    files_io,
    files_trigger,
    flowable,
    http,
    http_trigger,
    kv,
    languages,
    messaging,
    notify,
    scripts,
    sql,
    working_directory,
)
from engine.tasks.base import FlowableTask, ListField, Task, child_lists, registry

PLUGIN_GROUP = "lanner.tasks"


def _load_plugins() -> None:
    for entry_point in importlib.metadata.entry_points(group=PLUGIN_GROUP):
        try:
            loaded = entry_point.load()
        except Exception as exc:
            warnings.warn(f"task plugin '{entry_point.name}' could not be loaded: {exc}", stacklevel=1)
            continue
        if isinstance(loaded, type) and issubclass(loaded, Task):
            registry.register(loaded)


_load_plugins()
registry.finish(FlowableTask, Flow)

__all__ = ["Flow", "FlowableTask", "ListField", "Task", "child_lists", "registry"]
