"""`tenure nas add|list|remove`: the RADIUS clients Tenure sends Disconnect-Requests to (operations.md).

Acts as the operator (`system`); the secret is stored encrypted and never printed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from tenure.adapters.clock import SystemClock
from tenure.config import load_settings
from tenure.domain.errors import DomainError
from tenure.domain.radius import DEFAULT_COA_PORT, NasSpec
from tenure.entrypoints.context import configured_engine, secret_box, unit_of_work
from tenure.services import nas as service
from tenure.services.common import system_caller
from tenure.services.unit_of_work import UnitOfWork

nas_app = typer.Typer(help="The NAS (RADIUS clients) Tenure disconnects sessions through.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _uows() -> Callable[[], UnitOfWork]:
    """New units of work on one engine (a command needs a few: the system caller, then the change)."""
    engine = configured_engine()
    return lambda: unit_of_work(engine)


@nas_app.command("add")
def add(
    name: Annotated[str, typer.Option(help="a name for the NAS, e.g. bng1")],
    ip: Annotated[str, typer.Option(help="its address: the NAS-IP-Address of its accounting, and where to send")],
    secret: Annotated[str, typer.Option(help="the RADIUS shared secret for Disconnect-Requests")],
    coa_port: Annotated[int, typer.Option(help="its RFC 5176 port")] = DEFAULT_COA_PORT,
) -> None:
    """Register a NAS; its secret is stored encrypted with TENURE_SECRET_KEY."""
    new_uow = _uows()
    try:
        with new_uow().reading() as reader:
            caller = system_caller(reader)
        entry = service.add_nas(
            new_uow(),
            caller=caller,
            spec=NasSpec(name, ip, secret, coa_port),
            boxes=secret_box,
            secret_key=load_settings().secret_key,
            now=SystemClock().now(),
        )
    except DomainError as error:
        _fail(error.detail, 2)
        return
    typer.echo(f"added NAS {entry.name} at {entry.ip}, CoA port {entry.coa_port} (id {entry.id})")


@nas_app.command("list")
def list_() -> None:
    """Every registered NAS (never its secret), one a line: name, address, CoA port, id."""
    new_uow = _uows()
    with new_uow().reading() as reader:
        caller = system_caller(reader)
    cursor: str | None = None
    while True:
        entries, cursor = service.list_nas(new_uow(), caller=caller, limit=500, cursor=cursor)
        for entry in entries:
            typer.echo(f"{entry.name}\t{entry.ip}\t{entry.coa_port}\t{entry.id}")
        if cursor is None:
            return


@nas_app.command("remove")
def remove(name: Annotated[str, typer.Option(help="the NAS's name (or id)")]) -> None:
    """Forget a NAS; disconnects still queued for it end `failed` after their retry window."""
    new_uow = _uows()
    try:
        with new_uow().reading() as reader:
            caller = system_caller(reader)
        entry = service.remove_nas(new_uow(), caller=caller, name_or_id=name, now=SystemClock().now())
    except DomainError as error:
        _fail(error.detail, 2)
        return
    typer.echo(f"removed NAS {entry.name} ({entry.ip})")
