"""One settings object (engine/config.py): every LANNER_* tunable, read once per process, bad values named."""

from __future__ import annotations

import os

import pytest

from engine.config import load_settings, read_settings, reset_settings


def test_the_tunables_have_their_documented_defaults():
    settings = read_settings({})
    assert (settings.heartbeat_interval, settings.heartbeat_timeout) == (1.0, 10.0)
    assert (settings.sweep_interval, settings.stale_after, settings.event_claim_idle) == (1.0, 10.0, 10.0)
    assert settings.queued_recovery_after == 10.0
    assert (settings.expression_timeout, settings.expression_max_size) == (1.0, 10_000_000)
    assert not settings.cookie_secure and not settings.worker_fork and settings.test_pause_before_claim is None


def test_the_tunables_come_from_the_environment():
    settings = read_settings(
        {
            "LANNER_HEARTBEAT_INTERVAL": "0.3",
            "LANNER_HEARTBEAT_TIMEOUT": "2",
            "LANNER_SWEEP_INTERVAL": "0.5",
            "LANNER_STALE_AFTER": "3",
            "LANNER_EVENT_CLAIM_IDLE": "4",
            "LANNER_QUEUED_RECOVERY_AFTER": "5",
            "LANNER_EXPRESSION_TIMEOUT": "0.2",
            "LANNER_EXPRESSION_MAX_SIZE": "1_000",
            "LANNER_COOKIE_SECURE": "Yes",
            "LANNER_WORKER_FORK": "1",
            "LANNER_WORKER_PREFETCH": "off",
            "LANNER_TEST_PAUSE_BEFORE_CLAIM": "/tmp/marker",
        }
    )
    assert (settings.heartbeat_interval, settings.heartbeat_timeout, settings.sweep_interval) == (0.3, 2.0, 0.5)
    assert (settings.stale_after, settings.event_claim_idle, settings.queued_recovery_after) == (3.0, 4.0, 5.0)
    assert (settings.expression_timeout, settings.expression_max_size) == (0.2, 1000)
    assert settings.cookie_secure and settings.worker_fork and settings.test_pause_before_claim == "/tmp/marker"
    assert not settings.worker_prefetch and read_settings({}).worker_prefetch


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LANNER_HEARTBEAT_TIMEOUT", "soon", "LANNER_HEARTBEAT_TIMEOUT must be a number, not 'soon'"),
        ("LANNER_SWEEP_INTERVAL", "0", "LANNER_SWEEP_INTERVAL must be more than 0, not '0'"),
        ("LANNER_EXPRESSION_MAX_SIZE", "-5", "LANNER_EXPRESSION_MAX_SIZE must be a positive number of items"),
        ("LANNER_MAX_OUTPUT_BYTES", "1MB", "LANNER_MAX_OUTPUT_BYTES must be a positive number of bytes"),
    ],
)
def test_a_bad_value_is_refused_with_its_name(name, value, message):
    with pytest.raises(ValueError, match=message):
        read_settings({name: value})


def test_the_process_reads_its_settings_once_until_reset(monkeypatch):
    monkeypatch.setenv("LANNER_STALE_AFTER", "7")
    first = load_settings()
    assert first.stale_after == 7.0 and load_settings() is first  # kept, not read again
    monkeypatch.setitem(os.environ, "LANNER_STALE_AFTER", "8")
    assert load_settings().stale_after == 7.0  # a change nobody announced is not seen...
    reset_settings()
    assert load_settings().stale_after == 8.0  # ...until the settings are reset


def test_monkeypatch_setenv_in_tests_takes_effect_at_once(monkeypatch):
    assert load_settings().expression_timeout == 1.0
    monkeypatch.setenv("LANNER_EXPRESSION_TIMEOUT", "0.25")
    assert load_settings().expression_timeout == 0.25
