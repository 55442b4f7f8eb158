"""The four kinds of refusal every layer raises, so each entry point maps them in one place.

Pure (imports nothing from Lanner): the core, the store and the identity modules subclass these, and the
service layer (``engine/services``) re-exports them. An adapter turns each kind into its own message: the API
into 404/403/409/422, the CLI into one line and an exit code, the studio into a toast. The specific classes
(``ExecutionNotFound``, ``authz.Forbidden``, ``InvalidTransition``...) keep their names and builtin bases
(``LookupError``, ``PermissionError``, ``ValueError``), so code catching those still does.
"""

from __future__ import annotations


class NotFound(LookupError):
    """No such thing, or one the caller may not see (the two are worded alike: nothing leaks)."""


class Forbidden(PermissionError):
    """The caller may see this but their role does not allow the action."""


class Conflict(ValueError):
    """The thing is not in a state that allows the change (kill an ended execution, resume a running one)."""


class InvalidInput(ValueError):
    """What the caller sent is wrong (inputs, a flow's YAML, a filter); ``details`` says what, for a form."""

    details: dict[str, object] = {}
