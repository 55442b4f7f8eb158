"""The refusals a service raises, for the adapters to map (API status, CLI exit line, studio toast).

They are defined at the bottom of the engine (``engine/core/errors.py``) because the store, the transition rules
and the access checks raise them too; this module is where an entry point imports them from. Each kind keeps
a builtin base: ``NotFound`` is a ``LookupError``, ``Forbidden`` a ``PermissionError``, ``Conflict`` and
``InvalidInput`` ``ValueError``\\s.
"""

from __future__ import annotations

from engine.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.identity.authz import Unauthenticated

ServiceError = (NotFound, Forbidden, Conflict, InvalidInput, Unauthenticated)  # every refusal, for ``except``

__all__ = ["Conflict", "Forbidden", "InvalidInput", "NotFound", "ServiceError", "Unauthenticated"]
