"""Helpers the tests import: plain functions and classes, never fixtures (those live in ``conftest.py`` files).

- ``ports``: free TCP ports and waiting until a server answers;
- ``ids``: unique names, so tests sharing a database or a Redis never collide;
- ``postgres``: the PostgreSQL server the tests use when it is reachable;
- ``cluster``: executor and worker processes of a real engine, with helpers to run flows and wait for them;
- ``mail``: a real (tiny) SMTP server recording what it receives;
- ``studio``: a real studio server (``lanner server``) and signed-in clients of it.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the checkout: engine/, studio/, examples/, tests/
