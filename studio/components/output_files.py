"""An execution's stored files: their list (task, name, size, a download link), and the preview of one (a table of
its first rows, its first lines, or a thumbnail). Shown by the execution page's Outputs tab and by the editor's
panel of the selected task; the state part is a mixin each of those states adds (with its ``execution_id``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import reflex as rx

from studio import display
from studio.components.code_view import code_view
from studio.services import files as stored_files


@dataclass
class OutputFile:
    """A file a task stored, as the lists show it."""

    address: str
    task_id: str
    task: str  # the task id, and the attempt when it is not the first
    name: str
    size: str
    href: str  # the API's streamed download route

    @classmethod
    def of(cls, row: dict[str, Any]) -> OutputFile:
        task = row["task_id"] if row["attempt"] <= 1 else f"{row['task_id']} #{row['attempt']}"
        size = display.size(row["size"])
        return cls(row["address"], row["task_id"], task, row["name"], size, row["href"])


@dataclass
class FilePreview:
    """The preview of the file chosen: ``kind`` table, text, image or none."""

    address: str = ""
    name: str = ""
    kind: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    text: str = ""
    image: str = ""  # a PNG thumbnail as a data URL
    note: str = ""  # how much is shown, or why nothing is

    @classmethod
    def of(cls, view: stored_files.FilePreviewView, key: str = "") -> FilePreview:
        """``key``: what the list names the file by, when not its address (a share link's path)."""
        if view.kind == "none":
            note = view.reason
        elif view.kind == "image":
            note = f"thumbnail of a {view.text} image"
        else:
            unit = "rows" if view.kind == "table" else "lines"
            shown = len(view.rows) if view.kind == "table" else len(view.text.splitlines())
            note = f"{shown} of {view.total_rows} {unit}" if view.total_rows is not None else f"first {shown} {unit}"
            note += " (more not shown)" if view.truncated and view.total_rows is None else ""
            note += f"; {view.reason}" if view.reason else ""
        return cls(
            address=key or view.address,
            name=view.name,
            kind=view.kind,
            columns=list(view.columns),
            rows=[list(row) for row in view.rows],
            text=view.text if view.kind != "image" else "",
            image=view.image,
            note=note,
        )


class OutputFilesState(rx.State, mixin=True):
    """The files of the execution shown (``execution_id`` of the state it is mixed into) and the one previewed."""

    files: list[OutputFile] = []
    preview: FilePreview = FilePreview()
    files_message: str = ""

    def _read_files(self, principal: Any, execution_id: str) -> None:
        rows = stored_files.execution_files(principal, execution_id) if execution_id else []
        self.files = [OutputFile.of(row) for row in rows]
        if self.preview.address and self.preview.address not in {f.address for f in self.files}:
            self.preview = FilePreview()

    @rx.event
    def show_file(self, address: str) -> None:
        """The first rows (or lines, or a thumbnail) of one of the execution's files."""
        try:
            view = stored_files.file_preview(self.principal(), self.execution_id, address)
        except (ValueError, LookupError) as exc:  # gone with its execution, or no longer readable
            self.preview, self.files_message = FilePreview(), str(exc)
            return
        self.preview, self.files_message = FilePreview.of(view), ""


def _file_row(item: rx.Var[OutputFile], on_preview: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(item.task),
        rx.table.cell(rx.text(item.name, weight="medium")),
        rx.table.cell(item.size, class_name="file-size"),
        rx.table.cell(
            rx.hstack(
                rx.button("Preview", size="1", variant="soft", on_click=on_preview(item.address)),
                # A plain link to the API's streamed download (the session cookie goes with it), as for logs:
                # the file never passes through the page's state.
                rx.button(
                    rx.el.a("Download", href=item.href, download=item.name, reload_document=True),
                    as_child=True,
                    size="1",
                    variant="soft",
                    class_name="file-download",
                ),
            )
        ),
        class_name="output-file",
        custom_attrs={"data-name": item.name, "data-task": item.task_id},
    )


def file_preview(shown: rx.Var[FilePreview]) -> rx.Component:
    table = rx.table.root(
        rx.table.header(rx.table.row(rx.foreach(shown.columns, lambda c: rx.table.column_header_cell(c)))),
        rx.table.body(rx.foreach(shown.rows, lambda row: rx.table.row(rx.foreach(row, lambda v: rx.table.cell(v))))),
        size="1",
        variant="surface",
    )
    return rx.cond(
        shown.address != "",
        rx.vstack(
            rx.hstack(
                rx.text(shown.name, weight="bold", size="2"),
                rx.text(shown.note, size="1", color_scheme="gray", id="file-preview-note"),
                align="center",
            ),
            rx.match(
                shown.kind,
                ("table", rx.box(table, overflow="auto", max_height="60vh", width="100%")),
                ("text", code_view(shown.text, width="100%", id="file-preview-text")),
                ("image", rx.image(src=shown.image, alt=shown.name, id="file-preview-image")),
                rx.fragment(),
            ),
            id="file-preview",
            custom_attrs={"data-kind": shown.kind},
            width="100%",
        ),
    )


def files_panel(
    files: rx.Var[list[OutputFile]], shown: rx.Var[FilePreview], message: rx.Var[str], on_preview: Any
) -> rx.Component:
    """The files, a Preview and a Download button each, and the preview of the one chosen."""
    return rx.vstack(
        rx.text("Files", size="1", weight="bold"),
        rx.cond(
            files.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Task"),
                        rx.table.column_header_cell("Name"),
                        rx.table.column_header_cell("Size"),
                        rx.table.column_header_cell(""),
                    )
                ),
                rx.table.body(rx.foreach(files, lambda item: _file_row(item, on_preview))),
                size="1",
                width="100%",
            ),
            rx.text("No task stored a file.", size="2", color_scheme="gray", class_name="no-files"),
        ),
        rx.cond(message != "", rx.text(message, size="1", color_scheme="red", class_name="files-message")),
        file_preview(shown),
        width="100%",
        class_name="output-files",
    )
