"""Secrets Tenure must give back later (a NAS's RADIUS secret), encrypted at rest with TENURE_SECRET_KEY.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with a key derived from
the installation's secret key by HKDF, so the same secret key that signs
console sessions is never used as an encryption key directly. A row is
readable only with the key it was written under: changing TENURE_SECRET_KEY
means registering the NAS secrets again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tenure.services.ports import SecretUnreadable

_INFO = b"tenure nas secrets v1"


class SecretBox:
    """Fernet under a key derived from the secret key; satisfies `services.ports.SecretBox`."""

    def __init__(self, secret_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, ValueError) as error:
            raise SecretUnreadable("the secret was stored under another TENURE_SECRET_KEY") from error
