"""Turning form fields into values, with messages a person can act on."""

from __future__ import annotations

import re
from datetime import date

from email_validator import EmailNotValidError, validate_email

from tenure.domain.errors import DomainError

FRIENDLY = {
    "version-conflict": "{name} was changed by someone else while this form was open. "
    "The form now shows the latest state; check it and try again.",
}


# The API names fields as the JSON does; a person reads the label on the form.
FIELD_LABELS = {
    "billing_ref": "billing reference",
    "billing_prefix": "billing prefix",
    "start_date": "start date",
    "end_date": "end date",
    "monthly_price": "monthly price",
    "parent_id": "parent",
    "main_contact": "main contact",
    "client_type": "client type",
    "decommission_on": "decommission date",
    "network_id": "network ID",
}
_FIELD_NAME = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def labelled(text: str) -> str:
    """`end_date must not be before start_date` -> `end date must not be before start date`."""
    return _FIELD_NAME.sub(lambda found: FIELD_LABELS.get(found.group(0), found.group(0)), text)


class FormErrors(dict[str, str]):
    """Field name -> message; empty when the form is fine."""


def parse_day(raw: str, field: str, errors: FormErrors, *, required: bool = False) -> date | None:
    raw = raw.strip()
    if not raw:
        if required:
            errors[field] = "Enter a date."
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[field] = "Enter a date as YYYY-MM-DD."
        return None


def parse_email(raw: str, field: str, errors: FormErrors) -> str:
    raw = raw.strip()
    if not raw:
        errors[field] = "Enter an email address."
        return raw
    try:
        return str(validate_email(raw, check_deliverability=False).normalized)
    except EmailNotValidError:
        errors[field] = "Enter an email address like name@example.com."
        return raw


def friendly(error: DomainError, name: str = "The account") -> str:
    """A refused rule as one sentence for the page."""
    template = FRIENDLY.get(error.code)
    if template:
        return template.format(name=name)
    detail = labelled(error.detail)
    return detail[:1].upper() + detail[1:] + ("" if detail.endswith(".") else ".")


_FORM_FIELDS = {"main_contact.name": "contact_name", "main_contact.email": "contact_email"}


def field_of(error: DomainError) -> str | None:
    """The form field to mark: the one the error names (the domain names `main_contact.name`, the form
    `contact_name`), or the one its kind is always about."""
    field = error.extra.get("field")
    return _FORM_FIELDS.get(field, field) if isinstance(field, str) else error.field
