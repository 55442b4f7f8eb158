"""Migration 0012: a task run and each of its attempts keep the metrics the attempt reported."""

from __future__ import annotations

import uuid

from sqlalchemy import inspect
from sqlmodel import Session, select

from engine.core.states import State
from engine.store import executions as store
from engine.store.tables import Execution, TaskRun, TaskRunAttempt


def test_metric_columns_exist_on_task_runs_and_attempts(database):
    for table in ("task_run", "task_run_attempt"):
        assert "metrics" in {column["name"] for column in inspect(database).get_columns(table)}


def running_task_run(database) -> str:
    """A task run whose first attempt a worker has claimed."""
    execution = Execution(id=str(uuid.uuid4()), namespace="test", flow_id="f", flow_revision=1, state="RUNNING")
    run = TaskRun(
        id=str(uuid.uuid4()), execution_id=execution.id, namespace="test", flow_id="f", task_id="t", state="QUEUED"
    )
    run_id = run.id
    with Session(database) as session:
        store.add_execution(session, execution)
        session.commit()
        store.add_task_run(session, run)
        session.commit()
        assert store.claim_attempt(session, run_id, "worker-1") is not None
        session.commit()
    return run_id


def test_finishing_an_attempt_keeps_its_metrics_on_the_run_and_the_attempt(database):
    run_id = running_task_run(database)
    metrics = [{"type": "counter", "name": "rows", "tags": {}, "value": 3}]
    with Session(database) as session:
        run = session.get(TaskRun, run_id)
        assert store.finish_attempt(session, run, State.SUCCESS, outputs={}, error=None, metrics=metrics)
        session.commit()
    with Session(database) as session:
        assert session.get(TaskRun, run_id).metrics == metrics
        (attempt,) = session.exec(select(TaskRunAttempt).where(TaskRunAttempt.task_run_id == run_id)).all()
        assert attempt.metrics == metrics
