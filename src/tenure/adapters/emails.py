"""Emails rendered from Jinja2 templates: a plain-text part and an HTML part (lifecycle.md §6).

Every subject names the client and the change ("Acme Ltd: services
suspended"). The account's name is read when the email is sent, so a rename
between the change and the delivery shows the name the client knows now.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tenure.domain.policy import Capability
from tenure.domain.text import one_line
from tenure.services.ports import Recipient

__all__ = ["SUBJECTS", "JinjaEmails", "Recipient", "RenderedEmail", "as_message", "render"]

SUBJECTS: dict[str, str] = {
    "suspended": "{name}: services suspended",
    "unsuspended": "{name}: services restored",
    "decommission_scheduled": "{name}: decommission scheduled for {decommission_on}",
    "decommission_cancelled": "{name}: scheduled decommission cancelled",
    "decommissioned": "{name}: services decommissioned",
}

_env = Environment(
    loader=PackageLoader("tenure", "templates/email"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters["capability"] = lambda value: Capability(value).label


@dataclass(frozen=True)
class RenderedEmail:
    to: str
    subject: str
    text: str
    html: str


def render(template: str, recipient: Recipient, payload: dict[str, Any], *, queued_on: date) -> RenderedEmail:
    """Subject, text and HTML for one outbox row; an unknown template is a programming error (KeyError)."""
    context = {
        "account": recipient,
        "greeting": recipient.contact_name or recipient.name,
        "payload": payload,
        "queued_on": queued_on.isoformat(),
        # the suspension came from above when the held account is not the recipient's own
        "inherited": payload.get("held_account", {}).get("id", recipient.account_id) != recipient.account_id,
        "is_partner": recipient.kind in ("reseller", "channel"),
    }
    # Built from stored text, so made one line: no name or date can add a header.
    subject = one_line(
        SUBJECTS[template].format(name=recipient.name, decommission_on=payload.get("decommission_on") or "")
    )
    return RenderedEmail(
        to=recipient.email,
        subject=subject,
        text=_env.get_template(f"{template}.txt").render(context),
        html=_env.get_template(f"{template}.html").render(context),
    )


def as_message(email: RenderedEmail, *, sender: str, message_id: str) -> Message:
    """A multipart/alternative message (text first, HTML preferred); the Message-ID is stable across retries.

    Built with the `email.mime` classes: the modern EmailMessage API parses
    every header through its registry and costs several times more per email.
    """
    # A random boundary given up front: the generator would otherwise search both bodies for a safe one.
    message = MIMEMultipart("alternative", boundary=f"=_tenure_{secrets.token_hex(16)}")
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject if email.subject.isascii() else Header(email.subject, "utf-8").encode()
    message["Message-ID"] = message_id
    message["Date"] = formatdate(usegmt=True)
    message["Auto-Submitted"] = "auto-generated"
    message.attach(MIMEText(email.text, "plain", "utf-8"))
    message.attach(MIMEText(email.html, "html", "utf-8"))
    return message


class JinjaEmails:
    """`services.ports.EmailWriter` by `render` and `as_message`; the worker hands it to the delivery."""

    def message(
        self,
        template: str,
        recipient: Recipient,
        payload: dict[str, Any],
        *,
        queued_on: date,
        sender: str,
        message_id: str,
    ) -> Message:
        return as_message(
            render(template, recipient, payload, queued_on=queued_on), sender=sender, message_id=message_id
        )
