"""The flow language: the model a YAML document declares (model, spec, triggers, inputs), loading it with
problems at their line and column (yaml_source, loader, checks, problems), editing its text as a person would
(yaml_edit), its task tree (tree), its graph for the canvas (graph), and fitting rendered or computed properties
back into a task (rendered, computed)."""
