"""Prometheus metrics shared by the API, the console and the worker.

The request metrics are a plain ASGI middleware (`asgi.HttpMiddleware`), not Starlette's
`BaseHTTPMiddleware`, which costs a task and a stream per request: the number
lookup is asked on every call setup and should pay for nothing it does not need.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import Message, Receive, Scope, Send

from tenure.entrypoints.asgi import HttpMiddleware

REQUESTS = Counter("tenure_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "tenure_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


class MeasureRequests(HttpMiddleware):
    """Counts every HTTP request by route template and status, and times it."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            name = _route_template(scope)
            LATENCY.labels(name).observe(time.perf_counter() - started)
            REQUESTS.labels(scope["method"], name, str(status)).inc()


def _route_template(scope: Scope) -> str:
    """The matched route's template with its full prefix (`/api/v1/accounts/{account_id}`), else `unmatched`.

    Only templates, never the URL: a label per distinct URL would let anyone
    grow the metrics without end. FastAPI keeps the route as included (prefix
    and all) beside the original route, whose own path lacks the router prefix.
    """
    route = scope.get("route")
    if route is None:
        return "unmatched"
    included = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(included, "path_format", None) or getattr(route, "path_format", None)
    return template if isinstance(template, str) and template else "unmatched"
