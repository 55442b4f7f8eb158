"""The picker of a FILE input: choosing a file sends it at once (Reflex's upload), to be stored for the flow."""

import reflex as rx
from reflex.event import EventSpec

from engine.workspace import uploads


def file_drop(upload_id: rx.Var[str], chosen: rx.Var[str], on_drop: EventSpec) -> rx.Component:
    """A button and the name of the file chosen (``chosen``, empty before). Call it inside an ``rx.memo`` taking
    the input's id: the dropzone's hook must see ``upload_id``, which a loop item is not outside its loop."""
    return rx.upload(
        rx.hstack(
            rx.button("Choose a file", type="button", size="1", variant="soft"),
            rx.text(rx.cond(chosen != "", chosen, "no file chosen"), size="1", class_name="file-name"),
            align="center",
        ),
        id=upload_id,
        multiple=False,
        max_files=1,
        max_size=uploads.MAX_UPLOAD_BYTES,
        on_drop=on_drop,
        class_name="file-drop",
        width="100%",
    )


async def read_chosen(files: list[rx.UploadFile]) -> tuple[str, bytes] | None:
    """The name and bytes of the file chosen (None if none), read to one byte past the upload limit: that byte
    tells ``engine.workspace.uploads.save`` the file is too large without reading more of it."""
    if not files:
        return None
    chosen = files[0]
    return chosen.name, await chosen.read(uploads.MAX_UPLOAD_BYTES + 1)
