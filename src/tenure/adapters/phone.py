"""Phone numbers to E.164 with the `phonenumbers` library (lifecycle.md §5).

Numbers must be written in international form, starting with `+` and the
country code ("+44 20 7946 0000"). Tenure does not guess a country from the
operator's time zone: one operator can sell numbers of several countries, and
a wrong guess would store a valid-looking wrong number.
"""

from __future__ import annotations

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
