"""Opaque identifiers: ULIDs (time-ordered, so new rows append to indexes)."""

from __future__ import annotations

import hashlib
import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def new_id(now_ms: int | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds, 80 random bits."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def cascade_message_id(job_id: int, account_id: str) -> str:
    """The `webhook-id` of a cascade job's notice for one account: the same whenever it is derived."""
    digest = hashlib.sha256(f"tenure-cascade:{job_id}:{account_id}".encode()).hexdigest()
    return f"msg_c{digest[:32]}"
