"""The studio builds what the editor's first open needs when it starts, not while someone waits."""

from engine.tasks import registry
from studio.services.editor_warm_up import warm_up


def test_warm_up_builds_every_task_types_schema():
    registry._schemas.clear()  # as in a server just started
    assert warm_up() == len(registry.names())
    assert set(registry._schemas) == set(registry.names())
