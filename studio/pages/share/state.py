"""The public page of a share link: one flow or one execution, read-only, and nothing else of the studio."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import reflex as rx

from studio import display
from studio.components.logs import LogLine
from studio.components.output_files import FilePreview, OutputFile
from studio.gantt import gantt_figure
from studio.services import files as stored_files
from studio.services import sharing

INVALID = "This link has expired or was revoked"


@dataclass
class SharedTarget:
    """The flow or execution a link shows; the execution's fields stay empty for a flow."""

    namespace: str = ""
    flow: str = ""
    revision: str = ""
    state: str = ""
    created: str = ""
    duration: str = ""
    error: str = ""


class SharedState(rx.State):
    """Only what ``sharing.shared_view`` returns for the token in the address; no handler acts on anything."""

    kind: str = ""  # "flow", "execution", or "" for an invalid link
    loaded: bool = False
    info: SharedTarget = SharedTarget()
    source: str = ""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    gantt: go.Figure = go.Figure()
    log_lines: list[LogLine] = []
    files: list[OutputFile] = []  # of a shared execution, each named by its path inside it
    preview: FilePreview = FilePreview()
    files_message: str = ""

    @rx.event
    def load(self) -> None:
        view = sharing.shared_view(self._token())
        self.loaded = True
        self.kind, self.info, self.source, self.nodes, self.edges, self.log_lines = "", SharedTarget(), "", [], [], []
        self.gantt, self.files, self.preview, self.files_message = go.Figure(), [], FilePreview(), ""
        if view is None:
            return
        self.kind = view["kind"]
        self.nodes, self.edges = [display.canvas_node(node) for node in view["nodes"]], view["edges"]
        texts = {**view, "created": display.when(view.get("created"), seconds=False)}
        texts["duration"] = display.elapsed(view.get("duration_ms")) if self.kind == "execution" else ""
        self.info = SharedTarget(**{key: str(texts.get(key, "")) for key in SharedTarget.__dataclass_fields__})
        if self.kind == "flow":
            self.source = view["source"]
        else:
            self.files = [OutputFile.of(row) for row in stored_files.shared_files(self._token())]
            self.gantt = gantt_figure(view["spans"], dt.datetime.now(dt.UTC).replace(tzinfo=None))
            self.log_lines = [
                LogLine(
                    id=number,
                    task_id="",  # the shared page has no task filter
                    level=line["level"],
                    text=display.log_text(line["timestamp"], line["level"], line["task_id"], line["message"]),
                )
                for number, line in enumerate(view["logs"], 1)
            ]

    def _token(self) -> str:
        return self.router.page.params.get("token", "")

    @rx.event
    def show_file(self, path: str) -> None:
        """The preview of one of the shared execution's files (the link is checked again)."""
        try:
            view = stored_files.shared_file_preview(self._token(), path)
        except (ValueError, LookupError) as exc:  # the link was revoked, or the file deleted with its execution
            self.preview, self.files_message = FilePreview(), str(exc)
            return
        self.preview, self.files_message = FilePreview.of(view, key=path), ""
