"""Request plumbing shared by every console page: session, caller, CSRF, rendering, errors.

`ConsoleRoute` wraps each page so that a refused rule, a missing session or
a rejected CSRF token becomes an HTML page (never a JSON problem or a 500),
and so that the session cookie is written back whenever it changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tenure.domain.access import Caller, Role
from tenure.domain.errors import DomainError, LoginSuspended, Unauthorized
from tenure.entrypoints.api.problems import STATUS_FOR_CODE
from tenure.entrypoints.console.session import CSRF_FIELD, CSRF_HEADER, Session
from tenure.entrypoints.console.state import console_state, format_moment
from tenure.entrypoints.context import AppContext
from tenure.services import viewing

DIALOG = "dialog-body"


class NeedsSignIn(Exception):
    """No session: the page sends the browser to /login."""


class CsrfRejected(Exception):
    """A form without the session's CSRF token: refused with a 403 page."""


def app_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def session_of(request: Request) -> Session:
    session: Session | None = getattr(request.state, "console_session", None)
    if session is None:
        site = console_state(request).site(app_ctx(request))
        session = site.cookies.load(request)
        request.state.console_session = session
    return session


def current_caller(request: Request) -> Caller:
    session = session_of(request)
    if not session.user_id:
        raise NeedsSignIn
    caller = viewing.caller_for_session(app_ctx(request).uow(), user_id=session.user_id, generation=session.generation)
    request.state.caller = caller
    return caller


def check_csrf(request: Request, csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> None:
    presented = csrf_token or request.headers.get(CSRF_HEADER, "")
    if not session_of(request).csrf_matches(presented):
        raise CsrfRejected


SignedIn = Annotated[Caller, Depends(current_caller)]
CSRF = [Depends(check_csrf)]


def is_fragment(request: Request) -> bool:
    """The page was asked for by htmx to fill the dialog, not as a whole page."""
    return request.headers.get("HX-Target") == DIALOG


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    state = console_state(request)
    session = session_of(request)
    caller: Caller | None = context.pop("caller", None) or getattr(request.state, "caller", None)
    tz = state.site(app_ctx(request)).timezone
    values = {
        "request": request,
        "caller": caller,
        "is_admin": caller is not None and caller.role is Role.ADMIN,
        "is_portal": caller is not None and caller.role is Role.PORTAL,
        "csrf": session.csrf,
        "flash": session.pop_flash(),
        "fragment": is_fragment(request),
        "moment": lambda value: format_moment(value, tz),
        **context,
    }
    return state.templates.TemplateResponse(request, template, values, status_code=status_code)


def done(request: Request, url: str, message: str | None = None) -> Response:
    """After a change: go to `url` (htmx follows without a full reload), with a one-line message."""
    if message:
        session_of(request).flash(message)
    if request.headers.get("HX-Request"):
        return Response(headers={"HX-Location": json.dumps({"path": url, "target": "body"})})
    return RedirectResponse(url, status_code=303)


def safe_return(url: str | None, default: str) -> str:
    """Only paths on this site: never an open redirect."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return default


def _sign_in_redirect(request: Request) -> Response:
    target = "/login"
    if request.method == "GET" and request.url.path not in ("/", "/login"):
        target += "?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if request.headers.get("HX-Request"):
        return Response(headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def error_page(request: Request, error: Exception) -> Response:
    if isinstance(error, NeedsSignIn):
        return _sign_in_redirect(request)
    if isinstance(error, Unauthorized):
        session_of(request).sign_out()
        return _sign_in_redirect(request)
    if isinstance(error, LoginSuspended):
        session_of(request).sign_out()
        return render(request, "refused.html", 403, detail=error.detail)
    if isinstance(error, CsrfRejected):
        title, detail, status = "This form has expired", "Reload the page and try again.", 403
    elif isinstance(error, RequestValidationError):
        title, detail, status = "The form is not valid", "Check the values and try again.", 400
    else:
        assert isinstance(error, DomainError)
        title, detail, status = error.title, error.detail, STATUS_FOR_CODE.get(error.code, 409)
    return render(request, "error.html", status, title=title, detail=detail)


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except (NeedsSignIn, CsrfRejected, DomainError, RequestValidationError) as error:
                response = error_page(request, error)
            session: Session | None = getattr(request.state, "console_session", None)
            if session is not None and session.dirty:
                console_state(request).site(app_ctx(request)).cookies.save(request, response, session)
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return console_handler
