"""Opaque identifiers: ULIDs (time-ordered, so new rows append to indexes)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
_lock = threading.Lock()
_last = 0
"""The last value this process handed out: ids made in one millisecond still sort in the order made."""


def new_id(now_ms: int | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds, 80 random bits.

    Without `now_ms` the ids of one process strictly increase (ULID's monotonic mode: within the
    same millisecond the next id is the last plus one), so "in the order they were added" can
    sort by id. With `now_ms` (data made for another instant) the time given is kept as is.
    """
    global _last
    if now_ms is not None:
        return _encode((now_ms << 80) | secrets.randbits(80))
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    with _lock:
        value = max(value, _last + 1)
        _last = value
    return _encode(value)


def _encode(value: int) -> str:
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def cascade_message_id(job_id: int, account_id: str) -> str:
    """The `webhook-id` of a cascade job's notice for one account: the same whenever it is derived."""
    digest = hashlib.sha256(f"tenure-cascade:{job_id}:{account_id}".encode()).hexdigest()
    return f"msg_c{digest[:32]}"
