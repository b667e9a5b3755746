"""Passwords are stored only as salted Argon2id hashes."""

from __future__ import annotations

import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

# The test suite hashes thousands of passwords; TENURE_ARGON2_PROFILE=cheapest makes that
# fast there (as Django's test settings swap in a fast hasher). Never set it in production.
_hasher = (
    PasswordHasher.from_parameters(profiles.CHEAPEST)
    if os.environ.get("TENURE_ARGON2_PROFILE") == "cheapest"
    else PasswordHasher()
)
# Verifying against this when the email is unknown keeps timing from telling which emails exist.
_DUMMY = _hasher.hash("not a real password, only for timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
