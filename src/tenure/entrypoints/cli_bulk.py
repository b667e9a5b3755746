"""`tenure bulk ACTION FILE`: one status action on every account listed in a file (a dunning run).

The file holds account ids or billing refs, one per line; blank lines and `#`
comments are skipped. They go through the same bulk use case as
`POST /api/v1/accounts/bulk`, 1,000 at a time, so each account follows its
single action's rules and gets its own events, emails and webhooks. The exit
status is 0 only when every line succeeded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from tenure.adapters.clock import SystemClock
from tenure.adapters.db.batch import BatchUnitOfWork
from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.uow import UnitOfWork
from tenure.config import load_settings
from tenure.domain.errors import DomainError
from tenure.domain.model import HoldReason
from tenure.entrypoints.cli_data import As, _caller, _fail, _progress
from tenure.services.bulk import MAX_ITEMS, BulkAction, BulkRequest, resolve, run_bulk

_TOKEN = re.compile(r"^[^\x00-\x1f\x7f\s]{1,64}$")


@dataclass(frozen=True)
class Line:
    number: int
    token: str


def read_lines(path: Path) -> list[Line]:
    """Non-blank, non-comment lines with their numbers, stripped (a trailing `# …` is a comment too)."""
    lines = []
    with path.open(encoding="utf-8-sig") as handle:
        for number, raw in enumerate(handle, start=1):
            token = raw.split("#", 1)[0].strip()
            if token:
                lines.append(Line(number, token))
    return lines


def bulk(
    action: Annotated[BulkAction, typer.Argument(help="what to do to every account listed")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="ids or billing refs")],
    reason: Annotated[HoldReason | None, typer.Option(help="suspend: required; unsuspend: lift only this")] = None,
    note: Annotated[str, typer.Option(help="suspend: a note on every hold")] = "",
    on: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="activate, decommission: a date")] = None,
    as_user: As = None,
) -> None:
    """Apply ACTION to every account in FILE (one id or billing ref per line), 1,000 per transaction."""
    request = BulkRequest(action, reason, note, on.date() if on else None)
    try:
        request.check()
    except DomainError as error:
        _fail(error.detail, 2)
    engine = make_engine(load_settings().database_url)
    caller = _caller(engine, as_user)
    lines = read_lines(file)
    bad = [
        f"line {line.number}: {line.token[:80]!r} is not an account id or billing ref"
        for line in lines
        if not _TOKEN.match(line.token)
    ]
    good = [line for line in lines if _TOKEN.match(line.token)]
    ids = resolve(UnitOfWork(engine), caller=caller, tokens=[line.token for line in good])
    failures = list(bad)
    with _progress(action.value, len(good)) as bar:
        task = bar.add_task(action.value, total=len(good))
        for start in range(0, len(good), MAX_ITEMS):
            chunk = good[start : start + MAX_ITEMS]
            results = run_bulk(
                BatchUnitOfWork(engine),
                caller=caller,
                request=request,
                ids=[ids.get(line.token, line.token) for line in chunk],
                now=SystemClock().now(),
            )
            for line, result in zip(chunk, results, strict=True):
                if result.error is not None:
                    failures.append(f"line {line.number}: {line.token}: {result.error.code}: {result.error.detail}")
            bar.advance(task, len(chunk))
    done = len(lines) - len(failures)
    accounts = f"{len(lines):,} account{'s' if len(lines) != 1 else ''}"
    typer.echo(f"{action.done_label} {done:,} of {accounts}; {len(failures):,} failed")
    for failure in failures:
        typer.echo(failure, err=True)
    if failures:
        raise typer.Exit(1)
