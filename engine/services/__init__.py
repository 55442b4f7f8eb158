"""The one way into Lanner's behaviour for every entry point: the API routes, the CLI and the studio.

A service function takes the connections and the caller (an ``engine.identity.policy.Principal``), decides
access once (``engine.identity.authz``), runs the change through the commands (whose state changes go through
``engine/core/states.py``), which write the audit record in the same transaction, and returns typed view models
(``views``). Refusals are
the four kinds of ``errors``; each adapter turns them into its own message (HTTP status, CLI line, studio
toast). Entry points call these and never run SQL, touch Redis or import the worker themselves.

Reads take the database (``Engine``); changes take ``Connections`` (database and Redis), since they wake the
executors.
"""
