"""The console's session: a signed, HttpOnly, SameSite=Lax cookie holding the user and a CSRF token.

The cookie holds no secret of its own: only the user's id, the user's
session generation at sign-in, a random CSRF token and a one-shot message. It
is signed with the site's secret key (TENURE_SECRET_KEY, else the key
`tenure init` stored), expires after twelve hours like an API token, and the
user behind it is checked again on every request, so a suspended or deleted
user is out at once. Signing out (or a new password) moves the user's
generation on in the database, so a copy of an old cookie no longer works.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "tenure_session"
MAX_AGE = 12 * 60 * 60
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass
class Session:
    data: dict[str, str] = field(default_factory=dict)
    dirty: bool = False

    @property
    def user_id(self) -> str | None:
        return self.data.get("uid")

    @property
    def generation(self) -> int | None:
        """The user's session generation when this session signed in (None: a cookie from before generations)."""
        value = self.data.get("gen", "")
        return int(value) if value.isascii() and value.isdigit() else None

    @property
    def csrf(self) -> str:
        if "csrf" not in self.data:
            self.data["csrf"] = secrets.token_urlsafe(24)
            self.dirty = True
        return self.data["csrf"]

    def csrf_matches(self, presented: str) -> bool:
        expected = self.data.get("csrf")
        return bool(expected and presented) and hmac.compare_digest(expected or "", presented)

    def sign_in(self, user_id: str, generation: int) -> None:
        """A fresh session (and CSRF token) on every sign-in: no fixation."""
        self.data = {"uid": user_id, "gen": str(generation), "csrf": secrets.token_urlsafe(24)}
        self.dirty = True

    def sign_out(self) -> None:
        self.data = {"csrf": secrets.token_urlsafe(24)}
        self.dirty = True

    def flash(self, message: str, kind: str = "ok") -> None:
        self.data["flash"] = message
        self.data["flash_kind"] = kind
        self.dirty = True

    def pop_flash(self) -> tuple[str, str] | None:
        message = self.data.pop("flash", None)
        kind = self.data.pop("flash_kind", "ok")
        if message is None:
            return None
        self.dirty = True
        return message, kind


class SessionCookies:
    """Reads and writes the session cookie with one signing key."""

    def __init__(self, secret_key: str) -> None:
        self.serializer = URLSafeTimedSerializer(secret_key, salt="tenure.console.session")

    def load(self, request: Request) -> Session:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return Session()
        try:
            data = self.serializer.loads(raw, max_age=MAX_AGE)
        except BadSignature:
            return Session(dirty=True)
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            return Session(dirty=True)
        return Session({str(k): v for k, v in data.items()})

    def save(self, request: Request, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self.serializer.dumps(session.data),
            max_age=MAX_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
