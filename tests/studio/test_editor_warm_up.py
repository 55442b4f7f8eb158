"""The studio builds what the editor's first open needs when it starts, not while someone waits."""

import gc

from engine.runtime.memory import GC_YOUNG_THRESHOLD, collect_less
from engine.tasks import registry
from studio.services.editor_warm_up import warm_up


def test_warm_up_builds_every_task_types_schema():
    registry._schemas.clear()  # as in a server just started
    assert warm_up() == len(registry.names())
    assert set(registry._schemas) == set(registry.names())


def test_after_the_warm_up_the_garbage_collector_leaves_what_is_kept_alone():
    kept = {"held": ["for good"]}  # as the app's own objects are
    thresholds = gc.get_threshold()
    assert any(found is kept for found in gc.get_objects())
    try:
        collect_less()
        assert not any(found is kept for found in gc.get_objects())  # frozen: full collections skip it
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *thresholds[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
