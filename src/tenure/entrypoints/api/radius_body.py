"""Reading rlm_rest's request bodies: attributes as plain values or as rlm_rest's own JSON.

rlm_rest's default JSON body is `{"User-Name": {"type": "string", "value": ["acme-ppp1"]}}`;
a hand-written `data` template sends `{"User-Name": "acme-ppp1"}`. Both are accepted.
Anything else (not JSON, not an object, a value that is neither) is bad input: 400,
which rlm_rest turns into `invalid`.
"""

from __future__ import annotations

import json
from typing import Any

from tenure.domain.errors import ValidationFailed
from tenure.domain.radius import clean_network_id, printable_ascii

ATTRIBUTE_MAX = 253


def attributes(raw: bytes) -> dict[str, str | int]:
    """The body's attributes, each reduced to its first value."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed("the body must be a JSON object of RADIUS attributes") from error
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object of RADIUS attributes")
    return {name: value for name, item in body.items() if (value := _first_value(name, item)) is not None}


def _first_value(name: str, item: Any) -> str | int | None:
    if isinstance(item, dict):
        values, kind = item.get("value"), item.get("type", "")
        if not isinstance(values, list) or not isinstance(kind, str):
            raise ValidationFailed(f"{name} must be a value or {{'type', 'value': [...]}}", field=name)
        if not values:
            return None
        item = values[0]
    if isinstance(item, (str, int)) and not isinstance(item, bool):
        return item
    raise ValidationFailed(f"{name} must be a string or a number", field=name)


def text(found: dict[str, str | int], name: str, *, required: bool = False) -> str | None:
    """A string attribute, checked: printable ASCII, at most 253 characters."""
    value = found.get(name)
    if value is None:
        if required:
            raise ValidationFailed(f"{name} is required", field=name)
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= ATTRIBUTE_MAX or not printable_ascii(value):
        raise ValidationFailed(f"{name} must be 1-{ATTRIBUTE_MAX} printable ASCII characters", field=name)
    return value


def informational(found: dict[str, str | int], name: str) -> str | None:
    """An attribute Tenure only passes along (Called-Station-Id may name an SSID in any script)."""
    value = found.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > ATTRIBUTE_MAX or not value.isprintable():
        raise ValidationFailed(f"{name} must be at most {ATTRIBUTE_MAX} printable characters", field=name)
    return value


def user_name(found: dict[str, str | int]) -> str:
    value = found.get("User-Name")
    if not isinstance(value, str):
        raise ValidationFailed("User-Name is required and is a string", field="User-Name")
    return clean_network_id(value, field="User-Name")


def number_or_text(found: dict[str, str | int], name: str) -> str | None:
    """Acct-Status-Type and Event-Timestamp may come as numbers."""
    value = found.get(name)
    if isinstance(value, int):
        return str(value)
    return text(found, name)


_RLM_VALUE = {
    "type": "object",
    "required": ["value"],
    "properties": {"type": {"type": "string"}, "value": {"type": "array"}},
}
_TEXT = {"anyOf": [{"type": "string", "maxLength": ATTRIBUTE_MAX}, _RLM_VALUE]}
_TEXT_OR_NUMBER = {"anyOf": [{"type": "string", "maxLength": ATTRIBUTE_MAX}, {"type": "integer"}, _RLM_VALUE]}
_NUMBERED = ("Acct-Status-Type", "Event-Timestamp")


def request_body(required: list[str], optional: list[str], example: dict[str, str]) -> dict[str, Any]:
    """The OpenAPI request body of a RADIUS route (the body is read by hand, to answer rlm_rest's way).

    Attributes Tenure does not read may be anything rlm_rest sends: a string, a number or its object.
    """
    schema = {
        "type": "object",
        "description": "RADIUS attributes, each a plain value or rlm_rest's {'type', 'value': [...]}",
        "required": required,
        "properties": {name: _TEXT_OR_NUMBER if name in _NUMBERED else _TEXT for name in [*required, *optional]},
        "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "integer"}, _RLM_VALUE]},
        "example": example,
    }
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
