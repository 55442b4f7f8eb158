"""W1-W3 as Airflow DAGs, for ``bench/peers.py`` (its dags folder): parsed by Airflow, never imported by Lanner."""

from __future__ import annotations

import datetime as dt

from airflow.sdk import dag, task

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@task
def number(value: int) -> int:
    return value


@task
def add(value: int) -> int:
    return value + 1


@task
def join(values: list[int]) -> int:
    return sum(values)


@dag(dag_id="w1", schedule=None, start_date=START, catchup=False, is_paused_upon_creation=False)
def w1():
    value = number(1)  # 40 tasks: the first returns 1, each of the 39 others adds 1 (Lanner's chain)
    for _ in range(39):
        value = add(value)


@dag(dag_id="w2", schedule=None, start_date=START, catchup=False, is_paused_upon_creation=False)
def w2():
    join(number.expand(value=list(range(100))))


@dag(dag_id="w3", schedule=None, start_date=START, catchup=False, is_paused_upon_creation=False, max_active_runs=64)
def w3():
    number(1)


w1()
w2()
w3()
