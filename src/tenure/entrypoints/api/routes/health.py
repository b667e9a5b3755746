"""Health and metrics: no token needed (api.md "Health"), so probes and scrapers need no secret."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tenure.entrypoints.api.deps import Ctx

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str | None = None


_UNREADY: dict[int | str, dict[str, Any]] = {503: {"model": Health, "description": "The database is unreachable"}}
_PROMETHEUS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text format"}
}


@router.get("/healthz", response_model=Health, response_model_exclude_none=True)
def healthz() -> Health:
    """The process is up (it answered)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=_UNREADY)
def readyz(ctx: Ctx) -> JSONResponse:
    """The database answers a query."""
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "reachable"})


@router.get("/metrics", response_class=Response, responses=_PROMETHEUS)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
