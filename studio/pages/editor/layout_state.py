"""How the editor's frame is arranged, remembered in the browser (localStorage): the app's navigation sidebar and
the palette collapsed or not, the log drawer open or not. Nothing of the flow: a state of its own."""

import reflex as rx


class EditorLayout(rx.State):
    sidebar: str = rx.LocalStorage("collapsed", name="lanner_editor_sidebar", sync=True)  # the canvas first
    palette: str = rx.LocalStorage("open", name="lanner_editor_palette", sync=True)
    drawer: str = rx.LocalStorage("open", name="lanner_editor_drawer", sync=True)

    @rx.event
    def toggle_sidebar(self) -> None:
        self.sidebar = "open" if self.sidebar == "collapsed" else "collapsed"

    @rx.event
    def toggle_palette(self) -> None:
        self.palette = "open" if self.palette == "collapsed" else "collapsed"

    @rx.event
    def toggle_drawer(self) -> None:
        self.drawer = "open" if self.drawer == "closed" else "closed"
