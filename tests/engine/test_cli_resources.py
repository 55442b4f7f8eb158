"""``lanner namespace resources get|set`` and ``lanner worker --group`` refusals, on a real database."""

from __future__ import annotations

import json


def test_set_then_get_inherited_group_limits_and_clear_refusals(lanner):
    done = lanner("namespace", "resources", "set", "acme", "--worker-group", "gpu", "--max-running-executions", "3")
    assert b"resources of acme changed: worker_group=gpu, max_running_executions=3" in done.stdout
    shown = lanner("namespace", "resources", "get", "acme").stdout.decode()
    assert "worker_group: gpu\n" in shown and "max_running_executions: 3\n" in shown
    assert "max_running_task_runs: none\n" in shown
    child = lanner("namespace", "resources", "get", "acme.sales").stdout.decode()
    assert "worker_group: gpu (inherited)\n" in child
    lanner("namespace", "resources", "set", "acme", "--max-running-executions", "none")
    found = json.loads(lanner("namespace", "resources", "get", "acme", "--json").stdout)
    assert (found["worker_group"], found["max_running_executions"]) == ("gpu", None)
    refused = lanner("namespace", "resources", "set", "acme", "--max-running-task-runs", "lots", check=False)
    assert refused.returncode != 0 and b"a whole number, or none for no limit (not 'lots')" in refused.stderr
    refused = lanner("namespace", "resources", "set", "acme", "--max-running-task-runs", "0", check=False)
    assert refused.returncode != 0 and b"max_running_task_runs: a whole number of at least 1" in refused.stderr
    refused = lanner("namespace", "resources", "set", "acme", "--worker-group", "GPU!", check=False)
    assert refused.returncode != 0 and b"'GPU!' is not a group name" in refused.stderr
    assert lanner("namespace", "resources", "set", "acme", check=False).returncode != 0
    refused = lanner("worker", "--group", "Big Memory", check=False)
    assert refused.returncode != 0 and b"'Big Memory' is not a group name" in refused.stderr
