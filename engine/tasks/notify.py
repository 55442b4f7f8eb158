"""Notification tasks: a Slack message, an email."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from engine.flows.spec import Computed
from engine.tasks.base import Group, Task, registry
from engine.tasks.context import RunContext, TaskFailed


@registry.register
class NotifySlack(Task):
    type: Literal["notify.slack"]
    url: Annotated[str, Field(min_length=1)]
    """The channel's incoming webhook URL (https://hooks.slack.com/...); keep it in a secret."""
    text: Annotated[str, Field(min_length=1)]
    """The message; Slack formatting (*bold*, <url|link>) works."""
    channel: str | None = None
    """Post to this channel instead of the webhook's own, e.g. #sales (older webhooks only)."""
    username: str | None = None
    """Name shown as the sender (older webhooks only)."""
    icon_emoji: str | None = None
    """Emoji shown as the sender's picture, e.g. :robot_face: (older webhooks only)."""

    title: ClassVar[str] = "Slack message"
    summary: ClassVar[str] = "Post a message to a Slack channel through an incoming webhook."
    group: ClassVar[Group] = Group.NOTIFICATIONS
    icon: ClassVar[str] = "send"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"url": "{{ secret('SLACK_WEBHOOK') }}", "text": "Sales export done: {{ outputs.export.rows }} rows"},
    )

    def run(self, ctx: RunContext) -> dict[str, Any]:
        import httpx

        payload = {"text": self.text, "channel": self.channel, "username": self.username, "icon_emoji": self.icon_emoji}
        payload = {key: value for key, value in payload.items() if value is not None}
        try:
            response = httpx.post(self.url, json=payload, timeout=ctx.remaining() or 30.0)
        except httpx.HTTPError as exc:
            # The webhook URL is the credential: the message names the error, never the URL.
            raise TaskFailed(f"the Slack webhook could not be reached: {type(exc).__name__}: {exc}") from None
        outputs = {"status": response.status_code}
        if not response.is_success:
            raise TaskFailed(f"Slack answered {response.status_code}: {response.text[:500]}", outputs)
        ctx.log("INFO", f"message posted to Slack{f' in {self.channel}' if self.channel else ''}")
        return outputs


@registry.register
class NotifyEmail(Task):
    type: Literal["notify.email"]
    host: Annotated[str, Field(min_length=1)]
    """The mail server (SMTP), e.g. smtp.office365.com."""
    port: Computed[Annotated[int, Field(ge=1, le=65535)]] = 587
    """The mail server's port: usually 587 (with startTls), 465 (with ssl) or 25."""
    username: str | None = None
    """Account to sign in with; leave empty when the server needs no sign-in."""
    password: str | None = None
    """Password of the account; keep it in a secret."""
    start_tls: Computed[bool] | None = None
    """Encrypt the connection once connected (STARTTLS); on by default when the port is 587."""
    ssl: Computed[bool] = False
    """Encrypt the connection from the start (usually port 465)."""
    from_: Annotated[str, Field(alias="from", min_length=3)]
    """Sender address, e.g. reports@acme.com or "Acme reports <reports@acme.com>"."""
    to: Annotated[list[str], Field(min_length=1)]
    """Recipient addresses."""
    cc: list[str] | None = None
    """Addresses that get a copy."""
    subject: str
    """The email's subject line."""
    body: Annotated[str, Field(json_schema_extra={"x-lanner-code": "text"})]
    """The message, as plain text."""
    html: Annotated[str | None, Field(json_schema_extra={"x-lanner-code": "html"})] = None
    """The message as a web page (HTML), shown instead of the plain text by mail programs that can."""

    title: ClassVar[str] = "Email"
    summary: ClassVar[str] = "Send an email through a mail server (SMTP)."
    group: ClassVar[Group] = Group.NOTIFICATIONS
    icon: ClassVar[str] = "mail"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "host": "smtp.office365.com",
            "port": 587,
            "startTls": True,
            "username": "reports@acme.com",
            "password": "{{ secret('SMTP_PASSWORD') }}",
            "from": "reports@acme.com",
            "to": ["sales@acme.com"],
            "subject": "Daily sales",
            "body": "The daily sales report is ready.",
        },
    )

    @model_validator(mode="after")
    def _one_encryption(self) -> NotifyEmail:
        if self.ssl is True and self.start_tls is True:  # either may still be an expression, decided when run
            raise ValueError("give ssl or startTls, not both: ssl encrypts from the start, startTls after connecting")
        return self

    def run(self, ctx: RunContext) -> dict[str, Any]:
        import smtplib
        import ssl as tls
        from email.message import EmailMessage

        message = EmailMessage()
        try:
            message["From"] = self.from_
            message["To"] = ", ".join(self.to)
            if self.cc:
                message["Cc"] = ", ".join(self.cc)
            message["Subject"] = self.subject
        except ValueError as exc:  # e.g. a line break in the subject, which would let it add headers
            raise TaskFailed(f"the email cannot be built: {exc}") from None
        message.set_content(self.body)
        if self.html is not None:
            message.add_alternative(self.html, subtype="html")
        recipients = [*self.to, *(self.cc or [])]
        start_tls = self.start_tls if self.start_tls is not None else self.port == 587 and not self.ssl
        timeout = ctx.remaining() or 60.0
        server = f"{self.host}:{self.port}"
        try:
            if self.ssl:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=tls.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=timeout)
            with smtp:
                if start_tls:
                    smtp.starttls(context=tls.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(message, to_addrs=recipients)
        except smtplib.SMTPAuthenticationError as exc:
            raise TaskFailed(f"{server} refused the sign-in of {self.username}: {_reply(exc)}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise TaskFailed(f"{server} refused every recipient: {', '.join(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            raise TaskFailed(f"{server} refused the email: {_reply(exc)}") from None
        except (smtplib.SMTPException, OSError) as exc:  # OSError: unreachable server, TLS failures, timeouts
            raise TaskFailed(f"sending the email through {server} failed: {type(exc).__name__}: {exc}") from None
        if refused:
            ctx.warn(f"{server} refused {', '.join(refused)}")
        sent = len(recipients) - len(refused)
        ctx.log("INFO", f"email '{self.subject}' sent to {sent} recipient(s)")
        return {"recipients": sent}


def _reply(exc: Any) -> str:
    """The server's answer, as text (smtplib keeps it as bytes)."""
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {text}"
