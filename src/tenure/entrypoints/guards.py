"""Bad input refused at the door, before any route, dependency or authentication runs.

- A body over `TENURE_MAX_BODY_BYTES` (1 MiB by default) is 413
  `payload-too-large`: at once when `Content-Length` says so, otherwise as soon
  as the bytes received pass the limit (chunked uploads are counted as they
  arrive, never collected first), so an oversized request costs no memory.
- A NUL in the path, the query string or a form body is 422 `validation-error`:
  PostgreSQL cannot store or even compare one, and no field has a use for it.
  (JSON bodies are checked by the API's schemas, which can name the field.)

A plain ASGI middleware, like `metrics.MeasureRequests`, so it adds no task
or stream per request.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenure.entrypoints.asgi import HttpMiddleware

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_FORM = b"application/x-www-form-urlencoded"


class PayloadTooLarge(HTTPException):
    """Raised from `receive` when the body passes the limit; answered as 413 by the app's handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


class NulInForm(HTTPException):
    def __init__(self) -> None:
        super().__init__(422, "a form field contains a NUL character")


class RequestGuard(HttpMiddleware):
    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        super().__init__(app)
        self.limit = max_body_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "\x00" in scope["path"] or _query_has_nul(scope.get("query_string", b"")):
            await _refuse(scope, send, 422, "validation-error", "the address contains a NUL character")
            return
        headers = dict(scope.get("headers", []))
        declared = _content_length(headers.get(b"content-length"))
        if declared is not None and declared > self.limit:
            await _refuse(scope, send, 413, "payload-too-large", PayloadTooLarge(self.limit).detail)
            return
        is_form = headers.get(b"content-type", b"").split(b";")[0].strip().lower() == _FORM
        await self.app(scope, _counting(receive, self.limit, is_form), send)


def _counting(receive: Receive, limit: int, is_form: bool) -> Receive:
    received = 0
    tail = b""  # the end of the previous chunk: a `%00` may be split across two

    async def counted() -> Message:
        nonlocal received, tail
        message = await receive()
        if message["type"] == "http.request":
            body: bytes = message.get("body", b"")
            received += len(body)
            if received > limit:
                raise PayloadTooLarge(limit)
            if is_form:
                seen = tail + body
                if b"%00" in seen or b"\x00" in seen:
                    raise NulInForm
                tail = seen[-2:]
        return message

    return counted


def _query_has_nul(query: bytes) -> bool:
    return b"%00" in query or b"\x00" in query


def _content_length(value: bytes | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


async def _refuse(scope: Scope, send: Send, status: int, code: str, detail: str) -> None:
    """problem+json on the API; a short HTML page for the console (a person reads it)."""
    if str(scope["path"]).startswith("/api/"):
        title = "The request is not valid" if status == 422 else "The request body is too large"
        payload = {"type": f"https://tenure.dev/problems/{code}", "title": title, "status": status}
        body = json.dumps({**payload, "detail": detail, "code": code}).encode()
        content_type = b"application/problem+json"
    else:
        body = f"<!doctype html><title>Not accepted</title><h1>Not accepted</h1><p>{detail}.</p>".encode()
        content_type = b"text/html; charset=utf-8"
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
