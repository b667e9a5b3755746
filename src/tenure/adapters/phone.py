"""Phone numbers to E.164 with the `phonenumbers` library (lifecycle.md §5).

Numbers must be written in international form, starting with `+` and the
country code ("+44 20 7946 0000"). Tenure does not guess a country from the
operator's time zone: one operator can sell numbers of several countries, and
a wrong guess would store a valid-looking wrong number.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from tenure.domain.errors import ValidationFailed

MAX_INPUT = 64
HINT = "give the number in international form, with + and the country code, such as +44 20 7946 0000"


def to_e164(raw: str, *, field: str = "label") -> str:
    """The number in E.164 ("+442079460000"), or a validation error naming what is wrong."""
    text = raw.strip()
    if not text.startswith("+") or len(text) > MAX_INPUT:
        raise ValidationFailed(f"{raw[:MAX_INPUT]!r} is not a phone number: {HINT}", field=field)
    try:
        parsed = phonenumbers.parse(text, None)
    except NumberParseException as error:
        raise ValidationFailed(f"{text!r} is not a phone number: {HINT}", field=field) from error
    if parsed.extension or not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed(f"{text!r} is not a valid phone number: {HINT}", field=field)
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


class E164Numbers:
    """`services.ports.PhoneNumbers` by this module's `to_e164`; the entry points hand it to the services."""

    def to_e164(self, raw: str, *, field: str = "label") -> str:
        return to_e164(raw, field=field)


# Spacing people put inside a number: "+44 (0)20 7946-0123" is still one number.
_SPACING = re.compile(r"[\s\-./\u00a0]+")
_TRUNK_ZERO = re.compile(r"^(\+\d{1,3})\(0\)")  # "+44 (0)20": the (0) is dialled only inside the country
SEARCH_MIN_DIGITS = 6


def search_prefix(term: str) -> str | None:
    """A search term that reads as the start of an international number, as E.164 ("+4420794"), else None.

    `+44 20 7946 0123`, `+442079460123` and `00442079460123` all give `+442079460123`.
    Only a term written with `+` or `00` and at least six digits counts: a bare "2026" or a
    billing ref's digits are names, not numbers, and a shorter prefix would match a whole country.
    """
    compact = _SPACING.sub("", term)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    compact = _TRUNK_ZERO.sub(r"\1", compact).replace("(", "").replace(")", "")
    digits = compact[1:]
    if not compact.startswith("+") or not digits.isascii() or not digits.isdigit() or digits.startswith("0"):
        return None
    if not SEARCH_MIN_DIGITS <= len(digits) <= 15:
        return None
    return compact
