"""Secrets read by ``secret('NAME')`` in expressions.

Until namespace secrets are stored encrypted in the database, a secret comes from the environment of
the worker or executor: ``LANNER_SECRET_<NAME>`` (as Kestra's open-source edition does with SECRET_*).
"""

from __future__ import annotations

import os


class SecretMissing(LookupError):
    pass


def lookup_secret(name: str) -> str:
    key = "LANNER_SECRET_" + str(name).upper().replace("-", "_").replace(".", "_")
    value = os.environ.get(key)
    if value is None:
        raise SecretMissing(f"secret '{name}' is not set (define {key})")
    return value
