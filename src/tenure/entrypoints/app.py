"""The ASGI application: API v1, health and metrics (and the console, when present)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from tenure.adapters.clock import Clock, SystemClock
from tenure.adapters.db.engine import make_engine
from tenure.adapters.destinations import DestinationGuard
from tenure.config import Settings, load_settings
from tenure.entrypoints import console, guards, metrics, security_headers, worker_metrics
from tenure.entrypoints.api import problems
from tenure.entrypoints.api.lean import LeanLookups
from tenure.entrypoints.api.routes import (
    accounts,
    auth,
    billing,
    bulk,
    entitlements,
    health,
    lines,
    nas,
    offices,
    policy,
    radius,
)
from tenure.entrypoints.api.routes import (
    api_keys as api_key_routes,
)
from tenure.entrypoints.api.routes import webhooks as webhook_routes
from tenure.entrypoints.context import AppContext

DESCRIPTION = """Tenure's HTTP API: the account lifecycle, entitlements for network
equipment, billing and webhooks. Errors are `application/problem+json` with a stable `code`."""


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.ctx.hot_path.runner.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Tenure",
        version="1",
        description=DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.ctx = AppContext(
        engine or make_engine(settings.database_url),
        clock or SystemClock(),
        settings,
        DestinationGuard(settings.allowed_networks),
    )
    worker_metrics.observe(app.state.ctx.engine, app.state.ctx.clock)
    problems.install(app)
    app.add_middleware(LeanLookups)  # inside the guard and the metrics: checked at the door, and counted
    app.add_middleware(guards.RequestGuard, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(metrics.MeasureRequests)
    app.add_middleware(security_headers.SecurityHeaders)  # outermost: even a refusal at the door has them
    api = APIRouter(prefix="/api/v1")
    api.include_router(auth.router)
    api.include_router(bulk.router)
    api.include_router(accounts.router)
    api.include_router(webhook_routes.router)
    api.include_router(api_key_routes.router)
    for catalog_router in (offices.router, lines.router, entitlements.router, billing.router, policy.router):
        api.include_router(catalog_router)
    api.include_router(radius.router)
    api.include_router(nas.router)
    app.include_router(api)
    app.include_router(health.router)
    console.mount(app)
    return app
