"""The studio's one way into the engine: thin adapters over ``engine/services``, one module per thing they own.

Pages and states call these functions (``from studio import services``; ``services.save_flow(...)``), never
Redis, SQL or ``engine.store``. Each module reads and writes through ``engine/services``, which decides access
(``engine.identity.authz``) from the ``principal`` every function takes (``SessionState.principal()``): the
page's disabled buttons are only a courtesy, those checks are the guard.

- ``flows``: the flows list, the namespace selector, a flow's text; save, create, import, delete
- ``editing``: the palette, new tasks, the canvas graph of a text, text operations, drop targets
- ``editor_forms``: a task's form, the flow settings form, the run form's inputs
- ``completions``: what the editor's fields and YAML editor complete
- ``logs``: log lines as the panels show them, and their filters
- ``revisions``: a flow's revisions and the diff of two
- ``runs``: running from the editor (start, kill, status, input files)
- beside them, imported by their module name: ``executions``, ``history``, ``triggers``, ``audit_trail``,
  ``access``, ``members``, ``namespace_settings``, ``people``, ``sharing``, ``task_docs`` (a task type's
  documentation from its schema), ``cron_words`` (cron in plain words, and the schedule builder),
  ``editor_warm_up`` (what the editor's first open needs, built when the studio starts)

``database()`` and ``connections()`` are the process' own (``engine.services.connections``).
"""

from engine.services.connections import connections, database
from studio.services.completions import completions, expression_names
from studio.services.editing import drop_target, edit, graph_of, new_task, palette
from studio.services.editor_forms import flow_form, flow_inputs, form_value, set_flow_setting, task_form
from studio.services.flows import (
    FlowSummary,
    create_flow,
    delete_flow,
    flow_source,
    import_flow,
    list_flows,
    namespaces,
    save_flow,
)
from studio.services.logs import LOG_LEVELS, log_row
from studio.services.revisions import revision_diff, revision_source, revisions
from studio.services.runs import (
    keep_input_file,
    kill_run,
    node_run_view,
    run_status,
    run_view,
    start_run,
    store_run_file,
)

__all__ = [
    "LOG_LEVELS",
    "FlowSummary",
    "completions",
    "connections",
    "create_flow",
    "database",
    "delete_flow",
    "drop_target",
    "edit",
    "expression_names",
    "flow_form",
    "flow_inputs",
    "flow_source",
    "form_value",
    "graph_of",
    "import_flow",
    "keep_input_file",
    "kill_run",
    "list_flows",
    "log_row",
    "namespaces",
    "new_task",
    "node_run_view",
    "palette",
    "revision_diff",
    "revision_source",
    "revisions",
    "run_status",
    "run_view",
    "save_flow",
    "set_flow_setting",
    "start_run",
    "store_run_file",
    "task_form",
]
