"""The `tenure` command (operations.md "Commands")."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer
from sqlalchemy import Engine

from tenure.adapters.clock import SystemClock
from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.migrate import upgrade
from tenure.adapters.db.uow import UnitOfWork
from tenure.config import load_settings
from tenure.domain.errors import DomainError
from tenure.entrypoints.cli_admin import policy_app, user_app
from tenure.entrypoints.cli_bulk import bulk
from tenure.entrypoints.cli_check import check_app
from tenure.entrypoints.cli_data import export_app, import_app
from tenure.entrypoints.cli_nas import nas_app
from tenure.entrypoints.logging import configure
from tenure.services import auth
from tenure.services.setup import AlreadyInitialised, initialise

app = typer.Typer(help="Tenure: switch customers' services on and off, correctly.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(user_app, name="user")
app.add_typer(policy_app, name="policy")
app.add_typer(nas_app, name="nas")
app.add_typer(check_app, name="check")
app.command("bulk")(bulk)
api_key_app = typer.Typer(help="API keys for network equipment (softswitches, RADIUS servers).", no_args_is_help=True)
app.add_typer(api_key_app, name="api-key")


def _engine() -> Engine:
    return make_engine(load_settings().database_url)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def migrate() -> None:
    """Bring the schema to the latest version."""
    upgrade(_engine())
    typer.echo("schema is up to date")


@app.command()
def init(
    operator_name: Annotated[str, typer.Option(help="the operator's name")],
    admin_email: Annotated[str, typer.Option(help="the first admin's email")],
    admin_password: Annotated[str, typer.Option(help="at least 10 characters")],
    timezone: Annotated[str, typer.Option(help="the operator's time zone")] = "Europe/London",
    policy: Annotated[str, typer.Option(help="connect or metis")] = "connect",
    billing_prefix: Annotated[str, typer.Option(help="prefix of generated billing refs")] = "TEN",
) -> None:
    """Create the schema, the operator, its management client and the first admin."""
    engine = _engine()
    upgrade(engine)
    try:
        initialise(
            UnitOfWork(engine),
            operator_name=operator_name,
            admin_email=admin_email,
            admin_password=admin_password,
            timezone=timezone,
            policy=policy,
            billing_prefix=billing_prefix,
            secret_key=load_settings().secret_key,
            now=SystemClock().now(),
        )
    except AlreadyInitialised as error:
        _fail(str(error))
    except DomainError as error:
        _fail(error.detail, 2)
    typer.echo(f"initialised: sign in as {admin_email}")


@app.command()
def token(email: Annotated[str, typer.Option(help="an existing user's email")]) -> None:
    """Print a new API token for a user, and nothing else."""
    try:
        typer.echo(auth.token_for_email(UnitOfWork(_engine()), email=email, now=SystemClock().now()))
    except DomainError as error:
        _fail(error.detail)


@api_key_app.command("create")
def api_key_create(
    name: Annotated[str, typer.Option(help="what the key is for, e.g. kamailio")],
    scope: Annotated[list[str], typer.Option(help="entitlements:read, radius or read; repeat for several")],
    account: Annotated[str | None, typer.Option(help="the account whose subtree it sees (default: operator)")] = None,
) -> None:
    """Print a new API key, and nothing else (it is stored only as a hash: copy it now)."""
    from tenure.services.api_keys import create_key_unchecked

    try:
        created = create_key_unchecked(
            UnitOfWork(_engine()), name=name, scopes=scope, account_id=account, now=SystemClock().now()
        )
    except DomainError as error:
        _fail(error.detail, 2)
        return
    typer.echo(created.secret)


@app.command()
def prune(
    older_than: Annotated[str | None, typer.Option(help="e.g. 90d; default: TENURE_RETENTION_DAYS (90) days")] = None,
) -> None:
    """Delete delivered and failed notices and webhook deliveries past retention (never the audit trail)."""
    from tenure.services import retention

    try:
        period = retention.parse_period(older_than or f"{load_settings().retention_days}d")
    except DomainError as error:
        _fail(error.detail, 2)
        raise
    engine = _engine()
    pruned = retention.prune(lambda: UnitOfWork(engine), older_than=period, now=SystemClock().now())
    typer.echo(", ".join(f"{count} {what.value.replace('_', ' ')}" for what, count in pruned.items()) + " pruned")


@app.command()
def demo(
    url: Annotated[str, typer.Option(help="where the demo will be served, for the printed examples")] = (
        "http://127.0.0.1:8000"
    ),
) -> None:
    """Initialise (if needed) and load a believable demo data set; safe to run twice."""
    from tenure.entrypoints.demo import load_demo

    engine = _engine()
    upgrade(engine)
    for line in load_demo(engine, now=SystemClock().now(), url=url.rstrip("/")):
        typer.echo(line)


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    with_worker: Annotated[bool | None, typer.Option("--with-worker/--no-worker")] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="load balancers whose X-Forwarded-Proto/-For are believed (comma list, or *); "
            "default 127.0.0.1 or $FORWARDED_ALLOW_IPS"
        ),
    ] = None,
) -> None:
    """Serve the API and the console."""
    import uvicorn

    settings = load_settings()
    configure(settings.log_format)
    run_worker = settings.database_url.startswith("sqlite") if with_worker is None else with_worker
    typer.echo(f"Tenure on http://{host}:{port} (API docs at /api/v1/docs){' with the worker' if run_worker else ''}")
    if run_worker:
        from tenure.entrypoints.worker import start_background_worker

        start_background_worker(make_engine(settings.database_url), settings)
    uvicorn.run(
        "tenure.entrypoints.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        proxy_headers=True,  # the scheme a trusted load balancer saw decides the cookie's `Secure`
        forwarded_allow_ips=forwarded_allow_ips,
    )


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="treat this RFC 3339 instant as now")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="serve Prometheus metrics on this port")] = None,
) -> None:
    """Apply due scheduled changes and deliver notifications."""
    from sqlalchemy.exc import SQLAlchemyError

    from tenure.adapters.db.site import NotInitialised
    from tenure.entrypoints.worker import run_worker

    settings = load_settings()
    configure(settings.log_format)
    moment = _parse_instant(as_of) if as_of else None
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port)
    try:
        run_worker(make_engine(settings.database_url), settings, once=once, as_of=moment)
    except NotInitialised as error:
        _fail(str(error))
    except SQLAlchemyError as error:  # no schema yet, or no database at all
        _fail(f"the database is not ready ({getattr(error, 'orig', None) or error}); run `tenure init` first")


def _parse_instant(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"--as-of {value!r} is not an RFC 3339 timestamp", 2)
        raise
    if moment.tzinfo is None:
        _fail("--as-of needs a time zone (e.g. 2026-12-01T00:00:30Z)", 2)
    return moment


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
