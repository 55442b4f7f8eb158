"""Pieces of the editor's frame (``assets/editor_layout.jsx``): the handle that resizes the log drawer."""

import reflex as rx


class DrawerSplitter(rx.Component):
    library = "$/public/editor_layout.jsx"
    tag = "DrawerSplitter"

    target: rx.Var[str]
    storage_key: rx.Var[str]


drawer_splitter = DrawerSplitter.create

# The toolbar's "Tidy up": the canvas lays the flow out again in the browser (nothing to send to the server).
TIDY_UP = rx.call_script("window.dispatchEvent(new Event('lanner:tidy'))")
