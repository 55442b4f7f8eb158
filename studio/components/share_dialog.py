"""The "Share" button and its dialog: make a read-only link to a flow or an execution, list and revoke links."""

from dataclasses import dataclass
from typing import Any

import reflex as rx

from engine.identity.policy import Principal
from engine.identity.share_links import LINK_PREFIX
from studio import display
from studio.components.layout import danger_button, data_table
from studio.services import sharing
from studio.session import SessionState


@dataclass
class ShareLinkRow:
    """A link made to the target, as the dialog lists it (only its digest is kept: never the token)."""

    id: int
    shown: str
    created: str
    expires: str
    revoked: str
    revision: str
    status: str
    active: bool

    @classmethod
    def of(cls, link: dict[str, Any]) -> "ShareLinkRow":
        """A row of ``sharing.links`` (typed) in the dialog's words."""
        return cls(
            id=link["id"],
            shown=f"{LINK_PREFIX}… #{link['id']}",  # only the digest is kept: the token cannot be shown
            created=display.when(link["created"], seconds=False),
            expires=display.when(link["expires"], seconds=False, missing=display.NEVER),
            revoked=display.when(link["revoked"], seconds=False),
            revision="" if link["revision"] is None else str(link["revision"]),
            status=link["status"],
            active=link["active"],
        )


class ShareDialogState(SessionState):
    open: bool = False
    kind: str = ""
    namespace: str = ""
    target: str = ""
    revision: str = ""  # a flow link pinned to a revision; "" follows the newest
    days: str = "7"
    url: str = ""  # the new link, shown once: only its digest is kept
    links: list[ShareLinkRow] = []
    message: str = ""

    @rx.event
    def open_for(self, kind: str, namespace: str, target: str, revision: str = "") -> None:
        links = _links(self.principal(), kind, namespace, target)  # refused: the dialog stays closed
        self.kind, self.namespace, self.target, self.revision = kind, namespace, target, revision
        self.days, self.url, self.message, self.open = "7", "", "", True
        self.links = links

    def _reload(self) -> None:
        self.links = _links(self.principal(), self.kind, self.namespace, self.target)

    @rx.event
    def set_open(self, value: bool) -> None:
        self.open = value
        if not value:
            self.url = ""

    @rx.event
    def set_days(self, value: str) -> None:
        self.days = value

    @rx.event
    def create(self) -> None:
        if not self.days.strip().isdigit():
            self.message = "a link lasts 1 to 365 days"
            return
        revision = int(self.revision) if self.revision.isdigit() else None
        try:
            path, _ = sharing.create_link(
                self.principal(), self.kind, self.namespace, self.target, revision, int(self.days)
            )
        except (ValueError, LookupError) as exc:
            self.message = str(exc)
            return
        origin = self.router.headers.origin or self.router.page.host
        self.url, self.message = f"{origin}{path}", "copy the link now: it is not shown again"
        self._reload()

    @rx.event
    def revoke(self, link_id: int) -> None:
        sharing.revoke(self.principal(), link_id)
        self.message = f"link #{link_id} revoked"
        self._reload()


def _links(principal: Principal, kind: str, namespace: str, target: str) -> list[ShareLinkRow]:
    return [ShareLinkRow.of(link) for link in sharing.links(principal, kind, namespace, target)]


def share_button(kind, namespace, target, revision="") -> rx.Component:
    return rx.button(
        "Share",
        on_click=ShareDialogState.open_for(kind, namespace, target, revision),
        variant="soft",
        id="share-button",
    )


def share_button_for(may_share: rx.Var, kind, namespace, target) -> rx.Component:
    """Share for those whose role allows it; the others see it disabled, saying which role it needs."""
    reason = "sharing needs the editor role on " + namespace
    return rx.cond(
        may_share,
        share_button(kind, namespace, target),
        rx.el.span(
            rx.button("Share", variant="soft", id="share-button", disabled=True, title=reason),
            title=reason,
            id="share-refused",
        ),
    )


def _link_row(link: rx.Var[ShareLinkRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(link.shown),
        rx.table.cell(link.created),
        rx.table.cell(link.expires),
        rx.table.cell(rx.badge(link.status)),
        rx.table.cell(
            rx.cond(
                link.active,
                danger_button("Revoke", ShareDialogState.revoke(link.id), class_name="revoke-link"),
            )
        ),
        class_name="share-link-row",
    )


def share_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Share " + ShareDialogState.kind + " " + ShareDialogState.target),
            rx.dialog.description(
                "Anyone with the link can see it read-only, without an account, until it expires or is revoked.",
                size="2",
            ),
            rx.vstack(
                rx.hstack(
                    rx.text("Expires in", size="2"),
                    rx.input(
                        value=ShareDialogState.days,
                        on_change=ShareDialogState.set_days,
                        type="number",
                        min=1,
                        max=365,
                        width="6em",
                        id="share-days",
                        aria_label="Expires in (days)",
                    ),
                    rx.text("days", size="2"),
                    rx.button("Create link", on_click=ShareDialogState.create, id="share-create"),
                    align="center",
                ),
                rx.cond(
                    ShareDialogState.url != "",
                    rx.hstack(
                        rx.code(ShareDialogState.url, id="share-url", word_break="break-all"),
                        rx.button(
                            "Copy",
                            on_click=rx.set_clipboard(ShareDialogState.url),
                            size="1",
                            variant="soft",
                            id="share-copy",
                        ),
                        align="center",
                        width="100%",
                    ),
                ),
                rx.text(ShareDialogState.message, size="2", id="share-message"),
                data_table(("Link", "Created", "Expires", "Status", ""), ShareDialogState.links, _link_row, size="1"),
                rx.dialog.close(rx.button("Close", variant="soft", id="share-close")),
                width="100%",
            ),
            max_width="720px",
        ),
        open=ShareDialogState.open,
        on_open_change=ShareDialogState.set_open,
    )
