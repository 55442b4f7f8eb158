"""notify.email: an email through a mail server (SMTP), with files of internal storage attached."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from engine.flows.spec import Computed
from engine.storage.address import Address
from engine.tasks.base import registry
from engine.tasks.context import RunContext, TaskFailed
from engine.tasks.files import FileTooBig, local_copy
from engine.tasks.notify.common import Notification, headline, summary_lines

# Attachments in all: most mail servers refuse a message over 25 MB, and base64 makes files a third larger.
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024


@registry.register
class NotifyEmail(Notification):
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
    subject: str | None = None
    """The email's subject line (with summary, by default e.g. "FAILED: acme.sales")."""
    body: Annotated[str | None, Field(json_schema_extra={"x-lanner-code": "text"})] = None
    """The message, as plain text (with summary, put above it)."""
    html: Annotated[str | None, Field(json_schema_extra={"x-lanner-code": "html"})] = None
    """The message as a web page (HTML), shown instead of the plain text by mail programs that can."""
    attachments: list[str] | None = None
    """Files to attach: lanner:// addresses, e.g. {{ outputs.export.uri }}; each keeps its name (up to 15 MB in all)."""

    title: ClassVar[str] = "Email"
    summary: ClassVar[str] = "Send an email through a mail server (SMTP)."
    icon: ClassVar[str] = "mail"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "host": "smtp.office365.com",
            "username": "reports@acme.com",
            "password": "{{ secret('SMTP_PASSWORD') }}",
            "from": "reports@acme.com",
            "to": ["sales@acme.com"],
            "subject": "Daily sales",
            "body": "Yesterday's orders are attached.",
            "attachments": ["{{ outputs.export.uri }}"],
        },
        {
            "host": "smtp.office365.com",
            "username": "reports@acme.com",
            "password": "{{ secret('SMTP_PASSWORD') }}",
            "from": "reports@acme.com",
            "to": ["oncall@acme.com"],
            "summary": True,
        },
    )
    output_fields: ClassVar[dict[str, str]] = {"recipients": "The addresses the message was sent to."}

    @model_validator(mode="after")
    def _one_encryption(self) -> NotifyEmail:
        if self.ssl is True and self.start_tls is True:  # either may still be an expression, decided when run
            raise ValueError("give ssl or startTls, not both: ssl encrypts from the start, startTls after connecting")
        if not self.with_summary and (self.subject is None or self.body is None):
            raise ValueError("give a subject and a body, or summary: true")
        return self

    def run(self, ctx: RunContext) -> dict[str, Any]:
        import smtplib
        import ssl as tls
        from email.message import EmailMessage

        subject, body = self.subject, self.body
        summary = self.execution_summary(ctx)
        if summary is not None:
            subject = subject or headline(summary)
            lines = "\n".join(summary_lines(summary))
            body = f"{body}\n\n{lines}" if body else lines
        message = EmailMessage()
        try:
            message["From"] = self.from_
            message["To"] = ", ".join(self.to)
            if self.cc:
                message["Cc"] = ", ".join(self.cc)
            message["Subject"] = subject
        except ValueError as exc:  # e.g. a line break in the subject, which would let it add headers
            raise TaskFailed(f"the email cannot be built: {exc}") from None
        message.set_content(body)
        if self.html is not None:
            message.add_alternative(self.html, subtype="html")
        _attach(message, self.attachments or [], ctx)
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
        files = f" with {len(self.attachments)} attachment(s)" if self.attachments else ""
        ctx.log("INFO", f"email '{subject}' sent to {sent} recipient(s){files}")
        return {"recipients": sent}


def _reply(exc: Any) -> str:
    """The server's answer, as text (smtplib keeps it as bytes)."""
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {text}"


def _attach(message: Any, addresses: list[str], ctx: RunContext) -> None:
    """Attach the files at ``addresses`` (named by the address' last part, type guessed from it), refusing more
    than ``MAX_ATTACHMENT_BYTES`` in all before fetching the file that would pass it."""
    import mimetypes

    left = MAX_ATTACHMENT_BYTES
    for text in addresses:
        try:
            path = local_copy(ctx, text, max_bytes=left)
        except FileTooBig:
            cap = MAX_ATTACHMENT_BYTES
            limit = f"{cap / (1024 * 1024):g} MB" if cap >= 1024 * 1024 else f"{cap:,} bytes"
            raise TaskFailed(
                f"attachment {text.strip()} would make the attachments more than {limit} in all, more than mail "
                "servers take: send a link, or a smaller (compressed) file"
            ) from None
        left -= path.stat().st_size
        name = Address.parse(text.strip()).name.rsplit("/", 1)[-1]
        kind, encoding = mimetypes.guess_type(name)
        if kind is None or encoding is not None:  # unknown, or compressed (.csv.gz): sent as bytes
            kind = "application/octet-stream"
        main, sub = kind.split("/", 1)
        message.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=name)
