"""How a long-running process of Lanner leaves what it holds for good to the garbage collector.

Every process (the studio, the API, an executor, a worker) holds a few hundred thousand objects from start-up to
its end: modules, classes, the app, the task schemas. Python's full collection walks all of them (about 50 ms for
an executor's ~174,000) at whatever point of a run's path it falls: the in-process bench's executor CPU per
execution varied 55-140 ms with it. Frozen once started, they are skipped; frozen objects are still freed by
their reference counts.
"""

from __future__ import annotations

import gc

# Collections of the youngest objects once per 10,000 new ones, not Python's 700.
GC_YOUNG_THRESHOLD = 10_000


def collect_less() -> None:
    """Collect once, freeze what survives, and collect the youngest objects less often.

    Called once a process has built what it keeps: the studio after its warm-up, the API once its app is built,
    an executor and a worker before their loops. In the studio, reading a 1,000-task flow makes ~90,000 objects
    and the parse cache keeps the last few texts' trees: with the default thresholds a full collection ran during
    nearly every canvas edit, 100-600 ms each; with these, about one edit in ten pays it, and a cheaper one."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, oldest)
