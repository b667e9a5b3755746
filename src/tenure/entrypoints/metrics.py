"""Prometheus metrics shared by the API, the console and the worker."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import Counter, Histogram
from starlette.requests import Request
from starlette.responses import Response

REQUESTS = Counter("tenure_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "tenure_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    name = _route_template(request)
    LATENCY.labels(name).observe(time.perf_counter() - started)
    REQUESTS.labels(request.method, name, str(response.status_code)).inc()
    return response


def _route_template(request: Request) -> str:
    """The matched route as a template with its full prefix (`/api/v1/accounts/{account_id}`).

    Included routers keep only their own path on the route object, so the template is rebuilt
    from the URL and the path parameters; unmatched paths share one label to bound cardinality.
    """
    if request.scope.get("route") is None:
        return "unmatched"
    names = {str(value): f"{{{key}}}" for key, value in request.path_params.items()}
    return "/".join(names.get(segment, segment) for segment in request.url.path.split("/"))
