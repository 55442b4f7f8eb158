"""The picker of a FILE input: choosing a file sends it at once (Reflex's upload), to be stored for the flow."""

from collections.abc import Callable

import reflex as rx
from reflex.event import EventSpec

from engine.workspace import uploads


def label_file_input(upload: rx.Component, label: rx.Var[str] | str) -> rx.Component:
    """Name the (visually hidden) file input an ``rx.upload`` draws, for screen readers: Reflex offers no prop for
    it, so the input is found among the upload's children."""
    for child in upload.children:
        if getattr(child, "tag", None) == "input":
            child.custom_attrs["aria-label"] = label
            return upload
        label_file_input(child, label)
    return upload


def file_drop(
    id_prefix: str,
    input_id: rx.Var[str],
    chosen_names: rx.Var[dict[str, str]],
    upload: Callable[[EventSpec, rx.Var[str]], EventSpec],
) -> rx.Component:
    """The picker of input ``input_id`` (upload id ``id_prefix + input_id``): a button and the name of the file
    chosen (its entry in ``chosen_names``, none before); ``upload(files, input_id)`` stores the file dropped.
    Call it inside an ``rx.memo`` taking the input's id: the dropzone's hook must see the upload id, which a loop
    item is not outside its loop."""
    upload_id = id_prefix + input_id
    chosen = rx.cond(chosen_names.contains(input_id), chosen_names[input_id], "")
    picker = rx.upload(
        rx.hstack(
            rx.button("Choose a file", type="button", size="1", variant="soft"),
            rx.text(rx.cond(chosen != "", chosen, "no file chosen"), size="1", class_name="file-name"),
            align="center",
        ),
        id=upload_id,
        multiple=False,
        max_files=1,
        max_size=uploads.MAX_UPLOAD_BYTES,
        on_drop=upload(rx.upload_files(upload_id=upload_id), input_id),
        class_name="file-drop",
        width="100%",
    )
    return label_file_input(picker, "File for " + input_id)


async def read_chosen(files: list[rx.UploadFile]) -> tuple[str, bytes] | None:
    """The name and bytes of the file chosen (None if none), read to one byte past the upload limit: that byte
    tells ``engine.workspace.uploads.save`` the file is too large without reading more of it."""
    if not files:
        return None
    chosen = files[0]
    return chosen.name, await chosen.read(uploads.MAX_UPLOAD_BYTES + 1)
