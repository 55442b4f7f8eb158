"""What the editor's first open would otherwise build while someone waits for it: every task type's JSON schema
(the palette, the node titles and the completions read them), the flow model's validators, and the first pass
through the canvas, form and completion paths (the modules they load on first use). The studio does it once, in
the background, when it starts (``studio/studio.py``); on a loaded machine it took seconds of the first open."""

from __future__ import annotations

from engine.flows import yaml_edit
from studio.services.completions import completions, expression_names
from studio.services.editing import graph_of, palette
from studio.services.editor_forms import flow_form, task_form

SAMPLE = """id: warm_up
namespace: warm
tasks:
  - id: hello
    type: log
    message: "{{ flow.id }}"
"""


def warm_up() -> int:
    """Build it all once; returns how many task types the palette offers."""
    offered = palette()
    completions()
    text = yaml_edit.insert_task(SAMPLE, {"id": "after", "type": "log", "message": "{{ outputs.hello }}"})
    for flow in (SAMPLE, text):
        graph_of(flow)
        flow_form(flow)
        task_form(flow, "hello")
        expression_names(flow)
    return len(offered)
