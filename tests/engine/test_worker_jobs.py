"""How the engine's RQ worker (engine/runtime/worker.py ``LannerWorker``) ends jobs, against a real Redis: a job
that returns leaves nothing behind; one that raises (the database away, say) is kept in RQ's failed registry with
its traceback, as RQ's own worker keeps it, and the worker goes on with the next job."""

from __future__ import annotations

import pytest
import redis
from rq import Queue
from rq.registry import FailedJobRegistry, StartedJobRegistry

from engine.runtime.worker import LannerWorker


def returns(*_args: object) -> None:
    """A job that works."""


def raises(*_args: object) -> None:
    raise ConnectionError("the database is away")


@pytest.fixture
def queue(redis_server) -> Queue:
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    return Queue("lanner-test-jobs", connection=client)


def test_a_job_that_raises_is_kept_as_failed_and_the_worker_goes_on(queue):
    for name, function in (("first", raises), ("second", returns)):
        queue.enqueue_call(f"{__name__}.{function.__name__}", args=(name, 1), job_id=name, result_ttl=0)
    LannerWorker([queue], connection=queue.connection).work(burst=True, logging_level="WARNING")
    failed = FailedJobRegistry(queue=queue)
    assert failed.get_job_ids() == ["first"]
    assert "the database is away" in queue.fetch_job("first").latest_result().exc_string
    assert queue.fetch_job("second") is None  # ended and gone
    assert StartedJobRegistry(queue=queue).get_job_ids() == [] and len(queue) == 0
