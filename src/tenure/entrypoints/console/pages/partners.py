"""Partners: resellers and channels as a tree with client counts, and channel-wide suspension.

Suspend and Activate go through the same confirmation (with how many
clients it affects) and the same service calls as on a client.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tenure.domain.access import Role
from tenure.domain.actions import StatusAction, allowed_actions
from tenure.domain.errors import ValidationFailed
from tenure.domain.model import Status
from tenure.entrypoints.console.web import ConsoleRoute, SignedIn, app_ctx, render
from tenure.services import browse

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
QUICK = {"suspend": StatusAction.SUSPEND, "activate": StatusAction.UNSUSPEND}


@router.get("/partners")
def partners(request: Request, caller: SignedIn) -> Response:
    if caller.role is Role.PORTAL:
        return RedirectResponse(f"/clients/{caller.account_id}", status_code=303)
    page = browse.partners_page(app_ctx(request).uow(), caller=caller)
    return render(
        request,
        "partners.html",
        section="partners",
        page=page,
        statuses=list(Status),
        actions={
            node.account.id: allowed_actions(node.account, role=caller.role, authority=page.authority[node.account.id])
            for node in page.tree
        },
    )


@router.get("/partners/quick")
def quick(
    request: Request,
    caller: SignedIn,
    action: Annotated[str, Query(max_length=20)] = "",
    account_id: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The reseller-panel dropdowns: pick an account, then confirm as usual."""
    chosen = QUICK.get(action)
    if chosen is None or not account_id:
        raise ValidationFailed("choose an account and an action")
    query = urlencode({"return_to": "/partners"})
    return RedirectResponse(f"/clients/{account_id}/status/{chosen.value}?{query}", status_code=303)
