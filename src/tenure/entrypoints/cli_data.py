"""`tenure import clients FILE.csv` and `tenure export clients`: clients in and out as CSV.

Both act as an operator admin (`--as EMAIL` for another user, whose scope then
applies). A progress bar on stderr shows on long runs only, so piping stays clean.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Engine

from tenure.adapters.clock import SystemClock
from tenure.domain.access import Caller
from tenure.domain.errors import DomainError
from tenure.entrypoints.context import configured_engine, unit_of_work
from tenure.services import clients_csv
from tenure.services.common import system_caller

PROGRESS_FROM = 200  # rows; fewer finish before a bar would be worth drawing
import_app = typer.Typer(help="Import data from CSV.", no_args_is_help=True)
export_app = typer.Typer(help="Export data as CSV.", no_args_is_help=True)
As = Annotated[str | None, typer.Option("--as", help="act as this user (default: the operator, as `system`)")]


def _caller(engine: Engine, email: str | None) -> Caller:
    with unit_of_work(engine).reading() as uow:
        if email is None:
            return system_caller(uow)
        user = uow.users.by_email(email)
    if user is None:
        _fail(f"no user with email {email}")
    assert user is not None
    return user.as_caller()


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def _progress(label: str, total: int) -> Iterator[Progress]:
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=total < PROGRESS_FROM,
    )
    with bar:
        yield bar


@import_app.command("clients")
def import_clients(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV with a header row")],
    as_user: As = None,
) -> None:
    """Import clients: name,billing_ref,type,start,end,contact,parent_billing_ref[,network_ids]. All rows or none."""
    engine = configured_engine()
    caller = _caller(engine, as_user)
    with file.open(newline="", encoding="utf-8-sig") as handle:
        parsed = clients_csv.read_rows(handle)
    try:
        with _progress("importing", len(parsed.rows)) as bar:
            task = bar.add_task("import", total=len(parsed.rows))
            count = clients_csv.import_clients(
                unit_of_work(engine),
                caller=caller,
                parsed=parsed,
                now=SystemClock().now(),
                progress=lambda n: bar.advance(task, n),
            )
    except clients_csv.ImportRejected as rejected:
        for error in rejected.errors:
            typer.echo(f"{file.name}: {error}", err=True)
        _fail(str(rejected), 2)
    except DomainError as error:
        _fail(error.detail, 2)
    typer.echo(f"imported {count} client{'s' if count != 1 else ''}")


@export_app.command("clients")
def export_clients(
    as_user: As = None,
    include_inactive: Annotated[bool, typer.Option(help="also decommissioned clients")] = False,
) -> None:
    """Write every client (not the management client) as CSV to stdout, readable by `import clients`."""
    engine = configured_engine()
    caller = _caller(engine, as_user)
    total = clients_csv.count_clients(unit_of_work(engine), caller=caller, include_inactive=include_inactive)
    with _progress("exporting", total) as bar:
        task = bar.add_task("export", total=total)
        lines = clients_csv.export_clients(
            unit_of_work(engine),
            caller=caller,
            include_inactive=include_inactive,
            progress=lambda n: bar.advance(task, n),
        )
        for line in lines:
            sys.stdout.write(line)
    sys.stdout.flush()
