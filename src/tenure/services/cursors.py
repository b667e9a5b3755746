"""Opaque list cursors: what a page hands back to ask for the next one.

Plain base64 of a JSON list, so every list (accounts, users, keys, audit) speaks
the same cursor; the adapters decide what the values are (a sort key and an id).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from tenure.domain.errors import ValidationFailed


def encode_cursor(values: Sequence[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    """A cursor we issued, or a clear validation error; never a crash on junk."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed("cursor is not valid", field="cursor") from error
    if not isinstance(values, list) or len(values) != length:
        raise ValidationFailed("cursor is not valid", field="cursor")
    return values


def sort_key(name: str, is_management: bool) -> str:
    """Where an account sorts in every list: the management client first, then by case-insensitive name."""
    return ("0" if is_management else "1") + name.casefold()[:230]


def cursor_of(name: str, is_management: bool, account_id: str) -> str:
    """The cursor naming an account's place in a list: its sort key, then its id."""
    return encode_cursor([sort_key(name, is_management), account_id])
