"""Namespace secrets and variables in real runs: inheritance, and masking in stored logs and outputs."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.identity.crypto import generate_key, key_from_text
from engine.store.database import session_scope
from engine.workspace import secrets, variables
from tests.support.ids import unique

pytestmark = pytest.mark.slow


def test_namespace_secret_is_inherited_and_masked_in_logs_and_outputs(cluster_factory):
    cluster = cluster_factory()
    cluster.env["LANNER_SECRET_KEY"] = text_key = generate_key()
    key = key_from_text(text_key)
    top = unique("acme")
    with session_scope(cluster.db) as session:
        secrets.set_secret(session, top, "API_TOKEN", "parent-token-value", key=key)
        secrets.set_secret(session, f"{top}.sales", "API_TOKEN", "child-token-value", key=key)
        secrets.set_secret(session, top, "ONLY_TOP", "top-only-value", key=key)
        variables.set_variable(session, top, "region", "global")
        variables.set_variable(session, f"{top}.sales", "region", "eu")
        variables.set_variable(session, top, "owner", "ops")
    cluster.start_executor()
    cluster.start_workers(1)
    execution_id = cluster.run(
        f"id: {unique('f')}\nnamespace: {top}.sales.eu\nvariables: {{owner: me}}\ntasks:\n"
        "  - id: py\n    type: python\n    script: |\n"
        "      from engine.sdk import outputs\n"
        "      token = \"{{ secret('API_TOKEN') }}\"\n"
        "      print('token=' + token)\n"
        "      outputs({'token': token, 'nested': ['x' + token]})\n"
        "  - {id: sh, type: shell, commands: ['echo top={{ secret(\"ONLY_TOP\") }}']}\n"
        "  - {id: where, type: return, value: '{{ vars.region }}/{{ vars.owner }}'}\n"
    )
    execution = cluster.wait(execution_id)
    runs = cluster.runs(execution_id)
    assert execution.state == "SUCCESS", {k: r.error for k, r in runs.items()}
    lines = [line.message for line in cluster.logs(execution_id)]
    assert "token=****" in lines and "top=****" in lines
    assert not any(value in line for line in lines for value in ("child-token", "parent-token", "top-only"))
    assert runs["py"].outputs["vars"] == {"token": "****", "nested": ["x****"]}
    assert runs["where"].outputs["value"] == "eu/me"


def test_a_missing_secret_fails_at_once_whatever_the_retry_policy_saying_what_to_set(cluster_factory):
    """No retry can make a secret appear: one attempt, a quick failure, and the command that fixes it."""
    cluster = cluster_factory()
    cluster.start_executor()
    cluster.start_workers(1)
    namespace = f"{unique('acme')}.sales"
    retry = "    retry: {type: constant, interval: 2s, maxAttempts: 5}\n"
    execution_id = cluster.run(
        f"id: {unique('f')}\nnamespace: {namespace}\ntasks:\n"
        f"  - id: flaky\n    type: fail\n    message: down\n    allowFailure: true\n{retry.replace('5', '2')}"
        f"  - id: load\n    type: shell\n    commands: ['echo {{{{ secret(\"SHOP_DSN\") }}}}']\n{retry}"
    )
    execution = cluster.wait(execution_id, timeout=60)
    runs = cluster.runs(execution_id)
    assert execution.state == "FAILED" and runs["load"].attempt_count == 1
    assert runs["load"].ended_at - runs["load"].created_at < dt.timedelta(seconds=2)
    assert (
        f"secret 'SHOP_DSN' is not set in namespace {namespace} or its parents: "
        f"lanner secret set {namespace} SHOP_DSN (or define LANNER_SECRET_SHOP_DSN where flows run)"
    ) in runs["load"].error
    assert runs["flaky"].attempt_count == 2  # any other failure still follows the retry policy
