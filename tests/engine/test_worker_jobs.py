"""How the engine's RQ worker (engine/runtime/worker.py ``LannerWorker``) ends jobs, against a real Redis: a job
that returns leaves nothing behind; one that raises (the database away, say) is kept in RQ's failed registry with
its traceback, as RQ's own worker keeps it, and the worker goes on with the next job."""

from __future__ import annotations

import pytest
import redis
from rq import Queue, get_current_job
from rq.registry import FailedJobRegistry, StartedJobRegistry

from engine.runtime.sent_ahead import SentAhead
from engine.runtime.worker import LannerWorker

ORDER: list[str] = []  # what happened, in order, in the test running now


def returns(*_args: object) -> None:
    """A job that works."""


def raises(*_args: object) -> None:
    raise ConnectionError("the database is away")


def looks_at_its_start() -> None:
    """A job that reads what RQ wrote of its start, from another connection, as a recovery sweep would."""
    job = get_current_job()
    registered = job.id in StartedJobRegistry(job.origin, connection=job.connection).get_job_ids()
    ORDER.append(f"ran: registered {registered}, {job.get_status(refresh=True).value}")


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


def test_rqs_start_of_a_job_travels_while_the_job_runs_and_is_answered_before_its_end(queue, monkeypatch):
    """The start's round trip is not waited for before the job (the claim of its run goes on meanwhile), yet it is
    written by then, and its answer is read before the job's end is sent on another connection."""
    ORDER.clear()
    answers, cleanup = SentAhead.answers, LannerWorker.cleanup_execution

    def answered(self):
        ORDER.append("start answered")
        return answers(self)

    def ended(self, *args, **kwargs):
        ORDER.append("end sent")
        return cleanup(self, *args, **kwargs)

    monkeypatch.setattr(SentAhead, "answers", answered)
    monkeypatch.setattr(LannerWorker, "cleanup_execution", ended)
    queue.enqueue_call(f"{__name__}.looks_at_its_start", job_id="looking", result_ttl=0)
    LannerWorker([queue], connection=queue.connection).work(burst=True, logging_level="WARNING")
    assert ORDER == ["ran: registered True, started", "start answered", "end sent"]
    assert queue.fetch_job("looking") is None and StartedJobRegistry(queue=queue).get_job_ids() == []
    assert not queue.connection.connection_pool._in_use_connections  # no answer left unread on a connection
