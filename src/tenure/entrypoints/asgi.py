"""Plain ASGI middleware for HTTP requests (metrics, security headers, request guards).

Plain ASGI rather than Starlette's `BaseHTTPMiddleware`, which costs a task and
a stream per request. Lifespan and other non-HTTP messages pass straight through.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware:
    """Calls `handle` for each HTTP request and passes everything else to `app` untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
