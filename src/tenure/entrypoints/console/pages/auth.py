"""Signing in and out. Sign-in uses the API's `sign_in`, so both share one throttle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tenure.domain.access import Role
from tenure.domain.errors import LoginSuspended, RateLimited, Unauthorized
from tenure.entrypoints.console.web import CSRF, ConsoleRoute, app_ctx, render, safe_return, session_of
from tenure.services import auth, viewing

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


def _home(request: Request) -> str:
    """Where a signed-in user starts: the Clients page, or a portal user's own client."""
    session = session_of(request)
    if not session.user_id:
        return "/login"
    try:
        caller = viewing.caller_for_session(
            app_ctx(request).uow(), user_id=session.user_id, generation=session.generation
        )
    except (Unauthorized, LoginSuspended):
        return "/login"
    return f"/clients/{caller.account_id}" if caller.role is Role.PORTAL else "/clients"


@router.get("/")
def root(request: Request) -> Response:
    return RedirectResponse(_home(request), status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    if session_of(request).user_id and _home(request) != "/login":
        return RedirectResponse(_home(request), status_code=303)
    return render(request, "login.html", next=safe_return(next, ""), email="")


@router.post("/login", dependencies=CSRF)
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    ctx = app_ctx(request)
    status, refused = 200, False
    try:
        user = auth.sign_in(ctx.uow(), email=email.strip(), password=password, now=ctx.clock.now())
    except Unauthorized:
        error, status = "Wrong email or password.", 401
    except RateLimited:
        error, status = "Too many failed sign-ins for this email. Wait a minute, then try again.", 429
    except LoginSuspended as refusal:
        error, status, refused = f"{refusal.detail[0].upper()}{refusal.detail[1:]}.", 403, True
    else:
        session_of(request).sign_in(user.id, user.session_generation)
        home = f"/clients/{user.account_id}" if user.role is Role.PORTAL else "/clients"
        return RedirectResponse(safe_return(next, home), status_code=303)
    return render(request, "login.html", status, error=error, refused=refused, email=email, next=next)


@router.post("/logout", dependencies=CSRF)
def logout(request: Request) -> Response:
    """Sign out on the server too: the user's session generation moves on, so no copy of the cookie works."""
    session = session_of(request)
    if session.user_id:
        auth.end_sessions(app_ctx(request).uow(), user_id=session.user_id)
    session.sign_out()
    session_of(request).flash("You are signed out.")
    return RedirectResponse("/login", status_code=303)
