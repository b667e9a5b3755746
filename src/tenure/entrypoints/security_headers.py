"""Security headers on every answer (console.md "Sign-in"): CSP, no framing, nosniff, same-origin referrers.

The console runs only its own static scripts and styles (`/static/console/…`):
no inline script, no inline style, no `javascript:` URL, so the policy can
say `'self'` and nothing else. Swagger UI at `/api/v1/docs` is FastAPI's page
built from a CDN with an inline script; it is the one answer without the CSP
(it gets the other headers).
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from tenure.entrypoints.asgi import HttpMiddleware

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
WITHOUT_CSP = ("/api/v1/docs",)


class SecurityHeaders(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        extra = list(HEADERS)
        if not str(scope["path"]).startswith(WITHOUT_CSP):
            extra.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)
