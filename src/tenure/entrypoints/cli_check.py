"""`tenure check …`: consistency checks of derived data an operator can run at any time."""

from __future__ import annotations

from typing import Annotated

import typer

from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.uow import UnitOfWork
from tenure.config import load_settings
from tenure.services.counts import check_counts

check_app = typer.Typer(help="Check derived data against the records it comes from.", no_args_is_help=True)


@check_app.command("counts")
def counts(
    fix: Annotated[bool, typer.Option("--fix", help="set every drifted counter to the recount")] = False,
) -> None:
    """Recount clients per partner and stage and compare with the Clients page's counters.

    Exits 1 when any counter drifted (after fixing it, with --fix), 0 when all agree.
    """
    engine = make_engine(load_settings().database_url)
    try:
        drifted = check_counts(UnitOfWork(engine), fix=fix)
    finally:
        engine.dispose()
    for d in drifted:
        counted = "no counters" if d.counted is None else str(d.counted)
        typer.echo(f"drift: {d.ancestor_id} {d.stage}: counted {counted}, actual {d.actual}")
    if drifted:
        verb = "fixed" if fix else "found"
        typer.echo(f"{len(drifted)} counter(s) drifted ({verb})", err=True)
        raise typer.Exit(1)
    typer.echo("counts agree")
