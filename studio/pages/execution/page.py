"""What the execution page shows: its components (the state they read is in state.py)."""

import reflex as rx

from studio.components.canvas import read_only_canvas
from studio.components.code_view import code_view
from studio.components.file_drop import file_drop
from studio.components.layout import callout_if, fact, page, sidebar
from studio.components.logs import log_box, log_filters
from studio.components.output_files import files_panel
from studio.components.share_dialog import share_button_for, share_dialog
from studio.components.state_badge import state_badge
from studio.pages.execution.state import ExecutionState, MetricRow, SlaBreachRow, TaskOutput
from studio.session import ALL_NAMESPACES, SessionState


def _header() -> rx.Component:
    info = ExecutionState.info
    flow_href = "/flows/" + info.namespace + "/" + info.flow
    return rx.vstack(
        rx.hstack(
            rx.heading("Execution " + info.short, size="5"),
            state_badge(info.state, id="execution-state", size="2"),
            rx.spacer(),
            rx.text(ExecutionState.message, size="2", id="execution-message"),
            share_button_for(info.may_share, "execution", info.namespace, ExecutionState.execution_id),
            width="100%",
            align="center",
        ),
        rx.hstack(
            rx.vstack(
                rx.text("Flow", size="1", color_scheme="gray"),
                rx.hstack(
                    rx.link(info.namespace + "/" + info.flow, href=flow_href),
                    rx.link(
                        "revision " + info.revision,
                        href=flow_href + "?revision=" + info.revision,
                        id="revision-link",
                        size="2",
                    ),
                ),
                spacing="0",
            ),
            fact("Created", info.created),
            fact("Started", info.started),
            fact("Ended", info.ended),
            fact("Duration", info.duration, id="execution-duration"),
            fact("Trigger", info.trigger),
            fact("Labels", info.labels),
            spacing="5",
            wrap="wrap",
        ),
        callout_if(info.error, "execution-error", color_scheme="red", width="100%"),
        rx.foreach(info.sla_breaches, _sla_breach),
        callout_if(info.waiting, "execution-waiting", color_scheme="amber", icon="triangle_alert", width="100%"),
        rx.grid(
            rx.vstack(
                rx.text("Inputs", size="1", weight="bold"),
                code_view(info.inputs_json, language="json", width="100%"),
                width="100%",
            ),
            rx.vstack(
                rx.text("Outputs", size="1", weight="bold"),
                code_view(info.outputs_json, language="json", width="100%"),
                width="100%",
            ),
            columns="2",
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _sla_breach(breach: SlaBreachRow) -> rx.Component:
    """A banner per SLA the execution breached (the flow's ``sla``): which one, why, when, and what it did."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("alarm-clock")),
        rx.callout.text(
            rx.badge("SLA " + breach.sla_id, color_scheme="amber", class_name="sla-breach-id"),
            " breached (" + breach.kind + ", " + breach.behavior + ") at " + breach.at + ": ",
            rx.text.span(breach.reason, class_name="sla-breach-reason"),
        ),
        color_scheme="amber",
        class_name="sla-breach",
        width="100%",
    )


def _logs() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.select(
                ExecutionState.task_choices,
                value=ExecutionState.log_task,
                on_change=ExecutionState.set_log_task,
                size="1",
                name="log-task",
                custom_attrs={"aria-label": "Task of the logs"},
            ),
            log_filters(
                ExecutionState.log_level,
                ExecutionState.set_log_level,
                ExecutionState.log_search,
                ExecutionState.set_log_search,
                ExecutionState.visible_logs,
            ),
            rx.spacer(),
            # A plain link to the API's streamed download (the session cookie goes with it): the log never passes
            # through this page's state, whatever its size. A share link's page offers no download.
            rx.button(
                rx.el.a(
                    "Download",
                    href="/api/v1/logs/" + ExecutionState.execution_id + "/download",
                    download=ExecutionState.execution_id + ".log",
                    reload_document=True,  # rx.el.a is React Router's Link: let the browser fetch it, not the router
                    id="download-logs",
                ),
                as_child=True,
                size="1",
                variant="soft",
            ),
            width="100%",
            align="center",
        ),
        log_box(ExecutionState.visible_logs, "55vh"),
        width="100%",
    )


def _metric(row: rx.Var[MetricRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.name),
        rx.table.cell(row.tags),
        rx.table.cell(row.kind),
        rx.table.cell(row.value),
    )


def _metrics(item: rx.Var[TaskOutput]) -> rx.Component:
    """The counters and timers the task's script reported (engine.sdk counter/timer)."""
    return rx.cond(
        item.metrics.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(*(rx.table.column_header_cell(name) for name in ("Metric", "Tags", "Kind", "Value")))
            ),
            rx.table.body(rx.foreach(item.metrics, _metric)),
            size="1",
            width="100%",
            class_name="task-metrics",
        ),
    )


def _output(item: rx.Var[TaskOutput]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(item.task_id, weight="bold", size="2"),
            rx.button("Copy", size="1", variant="soft", on_click=rx.set_clipboard(item.json_text)),
        ),
        rx.cond(item.json_text != "", code_view(item.json_text, language="json", width="100%")),
        _metrics(item),
        width="100%",
        class_name="task-output",
    )


def _files() -> rx.Component:
    state = ExecutionState
    return files_panel(state.files, state.preview, state.files_message, state.show_file)


def _actions() -> rx.Component:
    # Shown to those whose role allows them; the services check again whatever the page shows.
    may = ExecutionState.info
    return rx.vstack(
        rx.cond(
            ~may.may_kill & ~may.may_restart,
            rx.callout("Your role in this namespace lets you follow this execution, not act on it.", id="read-only"),
        ),
        rx.hstack(
            rx.cond(
                may.may_kill,
                rx.button(
                    "Kill",
                    on_click=ExecutionState.kill,
                    color_scheme="red",
                    id="kill-button",
                    disabled=~ExecutionState.running,
                ),
            ),
            rx.cond(
                may.may_restart,
                rx.button(
                    "Restart from failed tasks",
                    on_click=ExecutionState.restart,
                    id="restart-button",
                    disabled=ExecutionState.running,
                ),
            ),
        ),
        rx.cond(may.may_restart, _replay()),
        rx.cond(
            (ExecutionState.info.paused | ExecutionState.info.held) & may.may_resume,
            _resume(),
        ),
        spacing="4",
    )


def _replay() -> rx.Component:
    return rx.hstack(
        rx.text("Replay from", size="2"),
        rx.select(
            ExecutionState.info.task_ids,
            value=ExecutionState.replay_task,
            on_change=ExecutionState.set_replay_task,
            name="replay-task",
            custom_attrs={"aria-label": "Replay from"},
        ),
        rx.button("Replay", on_click=ExecutionState.replay, variant="soft", id="replay-button"),
        align="center",
    )


@rx.memo
def resume_file_picker(input_id: rx.Var[str]) -> rx.Component:
    return file_drop("resume-file-", input_id, ExecutionState.resume_files, ExecutionState.upload_resume_file)


def _resume() -> rx.Component:
    return rx.vstack(
        rx.foreach(
            ExecutionState.info.resume_inputs,
            lambda item: rx.hstack(
                rx.text(item.id + " (" + item.type + ")", size="2"),
                rx.cond(
                    item.type == "FILE",
                    resume_file_picker(input_id=item.id),
                    rx.input(
                        value=ExecutionState.resume_values[item.id],
                        on_change=lambda v: ExecutionState.set_resume_value(item.id, v),
                        name=item.id,
                        aria_label=item.id,
                    ),
                ),
                align="center",
            ),
        ),
        rx.button("Resume", on_click=ExecutionState.resume, color_scheme="green", id="resume-button"),
    )


def execution_page() -> rx.Component:
    return page(
        sidebar(SessionState.reachable, ALL_NAMESPACES, SessionState.open_namespace),
        rx.cond(
            ExecutionState.missing != "",
            rx.callout(ExecutionState.missing, color_scheme="red", id="execution-missing"),
            rx.vstack(
                _header(),
                rx.tabs.root(
                    rx.tabs.list(
                        rx.tabs.trigger("Topology", value="topology", id="tab-topology"),
                        rx.tabs.trigger("Gantt", value="gantt", id="tab-gantt"),
                        rx.tabs.trigger("Logs", value="logs", id="tab-logs"),
                        rx.tabs.trigger("Outputs", value="outputs", id="tab-outputs"),
                        rx.tabs.trigger("Actions", value="actions", id="tab-actions"),
                    ),
                    rx.tabs.content(
                        read_only_canvas(
                            ExecutionState.nodes,
                            ExecutionState.edges,
                            ExecutionState.info.namespace + "/" + ExecutionState.info.flow,
                            on_select_task=ExecutionState.select_task,
                        ),
                        value="topology",
                    ),
                    rx.tabs.content(rx.plotly.basic(data=ExecutionState.gantt, id="gantt"), value="gantt"),
                    rx.tabs.content(_logs(), value="logs"),
                    rx.tabs.content(
                        rx.vstack(_files(), rx.foreach(ExecutionState.outputs, _output), width="100%"),
                        value="outputs",
                    ),
                    rx.tabs.content(_actions(), value="actions"),
                    default_value="topology",
                    width="100%",
                ),
                share_dialog(),
                width="100%",
            ),
        ),
    )
