"""Billing references (lifecycle.md §1): unique, custom or generated."""

from __future__ import annotations

import re

from tenure.domain.errors import ValidationFailed

DEFAULT_PREFIX = "TEN"
_CUSTOM = re.compile(r"[A-Za-z0-9\-_/]{1,32}")
_PREFIX = re.compile(r"[A-Za-z0-9]{1,16}")


def generated(prefix: str, sequence: int) -> str:
    """`TEN-000042`: the operator's prefix, a dash, the sequence padded to six digits."""
    return f"{prefix}-{sequence:06d}"


def validate_custom(ref: str) -> str:
    """A custom ref is 1-32 characters of A-Z a-z 0-9 - _ /."""
    if not _CUSTOM.fullmatch(ref):
        raise ValidationFailed("billing_ref must be 1-32 characters of A-Z a-z 0-9 - _ /", field="billing_ref")
    return ref


def validate_prefix(prefix: str) -> str:
    if not _PREFIX.fullmatch(prefix):
        raise ValidationFailed("the billing prefix must be 1-16 letters or digits", field="billing_prefix")
    return prefix
