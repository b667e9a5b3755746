"""The entitlement policy page: the matrix as a table; operator admins switch preset or edit a custom matrix.

Saving is a two-step form: "Preview" asks services.policy.preview_policy how
many accounts' capabilities would change (the same states and SQL condition
that queue `entitlements.changed`), and only then offers "Save".
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tenure.domain.access import Caller, Role
from tenure.domain.errors import DomainError, Forbidden
from tenure.domain.model import Kind, Status
from tenure.domain.policy import PRESETS, Capability, Policy
from tenure.entrypoints.console.forms import friendly
from tenure.entrypoints.console.web import CSRF, ConsoleRoute, SignedIn, app_ctx, done, render
from tenure.services import policy as service

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
ROWS = [*(c.value for c in Capability), "billed"]
ROW_LABELS = {**{c.value: c.label.capitalize() for c in Capability}, "billed": "Billed"}


def _matrix_of(form: Any) -> dict[str, dict[str, bool]]:
    """Checkbox `m.<row>.<status>` present = allowed; every cell is given, as `from_matrix` requires."""
    return {row: {s.value: form.get(f"m.{row}.{s.value}") == "on" for s in Status} for row in ROWS}


def _page(request: Request, caller: Caller, status: int = 200, **extra: Any) -> Response:
    current = service.get_policy(app_ctx(request).uow(), caller=caller)
    chosen: Policy = extra.pop("chosen", current)
    cells = extra.pop("cells", None) or chosen.as_matrix()  # after an error: the cells as posted
    return render(
        request,
        "policy.html",
        status,
        section="policy",
        current=current,
        matrix=cells,
        choice=extra.pop("choice", current.name),
        presets=list(PRESETS),
        rows=ROWS,
        row_labels=ROW_LABELS,
        statuses=list(Status),
        editable=caller.role is Role.ADMIN and caller.account_kind is Kind.OPERATOR,
        **extra,
    )


@router.get("/policy")
def policy_page(request: Request, caller: SignedIn) -> Response:
    if caller.role is Role.PORTAL:
        return RedirectResponse(f"/clients/{caller.account_id}", status_code=303)
    return _page(request, caller)


def _asked(form: Any) -> tuple[str, str | None, dict[str, dict[str, bool]] | None]:
    choice = str(form.get("choice", ""))[:20]
    if choice in PRESETS:
        return choice, choice, None
    return "custom", None, _matrix_of(form)


@router.post("/policy", dependencies=CSRF)
async def save_or_preview(request: Request, caller: SignedIn) -> Response:
    """The cells have names made from the matrix, so the form is read whole; the work runs off the event loop."""
    form = await request.form()
    choice, preset, matrix = _asked(form)
    step = str(form.get("step", ""))
    return await run_in_threadpool(_preview_or_save, request, caller, choice, preset, matrix, step)


def _preview_or_save(
    request: Request,
    caller: Caller,
    choice: str,
    preset: str | None,
    matrix: dict[str, dict[str, bool]] | None,
    step: str,
) -> Response:
    """`preview` counts and offers Save; `save` stores. The form keeps what was chosen either way."""
    if caller.role is not Role.ADMIN:
        raise Forbidden("Your role can read but not change")
    ctx = app_ctx(request)
    try:
        preview = service.preview_policy(ctx.uow(), caller=caller, preset=preset, matrix=matrix)
        if step != "save":
            return _page(request, caller, preview=preview, chosen=preview.policy, choice=choice)
        saved = service.set_policy(ctx.uow(), caller=caller, preset=preset, matrix=matrix, now=ctx.clock.now())
    except Forbidden:
        raise
    except DomainError as error:
        return _page(request, caller, 422, error=friendly(error), cells=matrix, choice=choice)
    count = preview.accounts_changed
    changed = f"{count} account{'' if count == 1 else 's'}"
    return done(request, "/policy", f"Policy saved: {saved.name}. Capabilities changed for {changed}.")
