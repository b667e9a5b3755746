"""Users of an account: list, add, reset a password, remove; every user's own password; set-password links.

Each action is one call into services.users or services.auth. A link made
instead of a password is shown once, in the answer to the action, and is
never stored or put in the session cookie.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tenure.adapters.db.users import User
from tenure.domain.access import Caller, Role, roles_for_account
from tenure.domain.errors import DomainError, Forbidden, LastAdmin, NotFound
from tenure.domain.model import Account
from tenure.entrypoints.console.forms import FormErrors, field_of, friendly, parse_email
from tenure.entrypoints.console.state import console_state
from tenure.entrypoints.console.web import CSRF, ConsoleRoute, SignedIn, app_ctx, done, render, session_of
from tenure.services import auth, queries, users

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
READ_ONLY = "Your role can read but not change"
Password = Annotated[str, Form(max_length=1024)]


def _secret_key(request: Request) -> str:
    return console_state(request).site(app_ctx(request)).secret_key


def _link(request: Request, token: str) -> str:
    return str(request.url_for("set_password_page").include_query_params(token=token))


def _require_admin(caller: Caller) -> None:
    """Forms that change something: a viewer (or portal user) gets 403 and no form."""
    if caller.role is not Role.ADMIN:
        raise Forbidden(READ_ONLY)


def _account(request: Request, caller: Caller, account_id: str) -> Account:
    ctx = app_ctx(request)
    return queries.get_account(ctx.uow(), caller=caller, account_id=account_id, now=ctx.clock.now()).account


def _user_of(request: Request, caller: Caller, account_id: str, user_id: str) -> User:
    user = users.get_user(app_ctx(request).uow(), caller=caller, user_id=user_id)
    if user.account_id != account_id:
        raise NotFound(f"user {user_id} not found")
    return user


@router.get("/users")
def my_users(caller: SignedIn) -> Response:
    """The Users entry of the main menu: the users of the caller's own account."""
    if caller.role is Role.PORTAL:
        return RedirectResponse("/account/password", status_code=303)
    return RedirectResponse(f"/accounts/{caller.account_id}/users", status_code=303)


@router.get("/accounts/{account_id}/users")
def user_list(
    account_id: str, request: Request, caller: SignedIn, cursor: Annotated[str | None, Query(max_length=1000)] = None
) -> Response:
    account = _account(request, caller, account_id)
    items, next_cursor = auth.list_users(
        app_ctx(request).uow(), caller=caller, account_id=account.id, limit=100, cursor=cursor
    )
    return render(
        request, "users.html", section="users", a=account, items=items, next_cursor=next_cursor, cursor=cursor
    )


def _add_form(request: Request, caller: Caller, account_id: str, status: int = 200, **extra: Any) -> Response:
    _require_admin(caller)
    account = _account(request, caller, account_id)
    roles = roles_for_account(account.kind)
    values = extra.pop("values", None) or {"role": roles[0].value, "mode": "link"}
    return render(request, "user_add.html", status, a=account, roles=roles, values=values, **extra)


@router.get("/accounts/{account_id}/users/new")
def add_form(account_id: str, request: Request, caller: SignedIn) -> Response:
    return _add_form(request, caller, account_id)


@router.post("/accounts/{account_id}/users/new", dependencies=CSRF)
def add(
    account_id: str,
    request: Request,
    caller: SignedIn,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    mode: Annotated[str, Form(max_length=20)] = "link",
    password: Password = "",
) -> Response:
    values = {"email": email, "role": role, "mode": mode}
    errors = FormErrors()
    address = parse_email(email, "email", errors)
    if role not in {r.value for r in Role}:
        errors["role"] = "Choose a role."
    if mode == "password" and not password:
        errors["password"] = "Enter an initial password, or choose a set-password link."
    if errors:
        return _add_form(request, caller, account_id, 422, values=values, errors=errors)
    ctx = app_ctx(request)
    try:
        added = users.add_user(
            ctx.uow(),
            caller=caller,
            account_id=account_id,
            email=address,
            role=Role(role),
            password=password if mode == "password" else None,
            secret_key=_secret_key(request),
            now=ctx.clock.now(),
        )
    except DomainError as error:
        errors = FormErrors({field_of(error) or "email": friendly(error)})
        return _add_form(request, caller, account_id, 422, values=values, errors=errors)
    back = f"/accounts/{account_id}/users"
    if added.link_token is None:
        return done(request, back, f"{added.user.email} added")
    link = _link(request, added.link_token)
    return render(request, "user_link.html", 201, user=added.user, link=link, back=back, added=True)


def _reset_form(
    request: Request, caller: Caller, account_id: str, user_id: str, status: int = 200, **extra: Any
) -> Response:
    _require_admin(caller)
    user = _user_of(request, caller, account_id, user_id)
    values = extra.pop("values", None) or {"mode": "link"}
    return render(request, "user_reset.html", status, user=user, values=values, **extra)


@router.get("/accounts/{account_id}/users/{user_id}/reset")
def reset_form(account_id: str, user_id: str, request: Request, caller: SignedIn) -> Response:
    return _reset_form(request, caller, account_id, user_id)


@router.post("/accounts/{account_id}/users/{user_id}/reset", dependencies=CSRF)
def reset(
    account_id: str,
    user_id: str,
    request: Request,
    caller: SignedIn,
    mode: Annotated[str, Form(max_length=20)] = "link",
    password: Password = "",
) -> Response:
    values = {"mode": mode}
    if mode == "password" and not password:
        errors = FormErrors({"password": "Enter the new password, or choose a set-password link."})
        return _reset_form(request, caller, account_id, user_id, 422, values=values, errors=errors)
    ctx = app_ctx(request)
    user = _user_of(request, caller, account_id, user_id)
    back = f"/accounts/{account_id}/users"
    try:
        if mode == "password":
            users.reset_password(ctx.uow(), caller=caller, user_id=user.id, password=password, now=ctx.clock.now())
            return done(request, back, f"Password of {user.email} changed; their sessions have ended")
        token = users.password_link(
            ctx.uow(), caller=caller, user_id=user.id, secret_key=_secret_key(request), now=ctx.clock.now()
        )
    except DomainError as error:
        errors = FormErrors({field_of(error) or "password": friendly(error)})
        return _reset_form(request, caller, account_id, user_id, 422, values=values, errors=errors)
    return render(request, "user_link.html", 200, user=user, link=_link(request, token), back=back, added=False)


def _remove_form(
    request: Request, caller: Caller, account_id: str, user_id: str, status: int = 200, **extra: Any
) -> Response:
    _require_admin(caller)
    user = _user_of(request, caller, account_id, user_id)
    return render(request, "user_remove.html", status, user=user, **extra)


@router.get("/accounts/{account_id}/users/{user_id}/remove")
def remove_form(account_id: str, user_id: str, request: Request, caller: SignedIn) -> Response:
    return _remove_form(request, caller, account_id, user_id)


@router.post("/accounts/{account_id}/users/{user_id}/remove", dependencies=CSRF)
def remove(account_id: str, user_id: str, request: Request, caller: SignedIn) -> Response:
    user = _user_of(request, caller, account_id, user_id)
    try:
        auth.delete_user(app_ctx(request).uow(), caller=caller, user_id=user.id)
    except LastAdmin:
        message = f"{user.email} is the operator's last admin and cannot be removed. Add another admin first."
        return _remove_form(request, caller, account_id, user_id, 409, error=message)
    except DomainError as error:
        return _remove_form(request, caller, account_id, user_id, 409, error=friendly(error))
    if user.id == caller.user_id:
        session_of(request).sign_out()
        return done(request, "/login", "You removed your own user and are signed out")
    return done(request, f"/accounts/{account_id}/users", f"{user.email} removed")


@router.get("/account/password")
def own_password_form(request: Request, caller: SignedIn) -> Response:
    return render(request, "own_password.html", section="password", errors={})


@router.post("/account/password", dependencies=CSRF)
def change_own_password(
    request: Request, caller: SignedIn, current_password: Password = "", password: Password = "", confirm: Password = ""
) -> Response:
    """Keeps this session (signed in again at the new generation); the user's other sessions end."""
    errors = FormErrors()
    if not current_password:
        errors["current_password"] = "Enter your current password."
    if password != confirm:
        errors["confirm"] = "The two new passwords are not the same."
    if not errors:
        ctx = app_ctx(request)
        try:
            user = users.change_own_password(
                ctx.uow(), caller=caller, current=current_password, new=password, now=ctx.clock.now()
            )
        except DomainError as error:
            errors[field_of(error) or "password"] = friendly(error)
        else:
            session_of(request).sign_in(user.id, user.session_generation)
            return done(request, "/account/password", "Password changed; your other sessions have ended")
    return render(request, "own_password.html", 422, section="password", errors=errors)


@router.get("/set-password", name="set_password_page")
def set_password_page(request: Request, token: Annotated[str, Query(max_length=1000)] = "") -> Response:
    """Public: the page a set-password link opens (no session needed)."""
    ctx = app_ctx(request)
    try:
        user = users.link_holder(ctx.uow(), token=token, secret_key=_secret_key(request), now=ctx.clock.now())
    except DomainError as error:
        return render(request, "set_password.html", 410, token="", refused=friendly(error), errors={})
    return render(request, "set_password.html", token=token, email=user.email, errors={})


@router.post("/set-password", dependencies=CSRF)
def set_password(
    request: Request,
    token: Annotated[str, Form(max_length=1000)] = "",
    password: Password = "",
    confirm: Password = "",
) -> Response:
    ctx = app_ctx(request)
    errors = FormErrors()
    if password != confirm:
        errors["confirm"] = "The two passwords are not the same."
    try:
        user = users.link_holder(ctx.uow(), token=token, secret_key=_secret_key(request), now=ctx.clock.now())
        if not errors:
            users.set_password_with_link(
                ctx.uow(), token=token, password=password, secret_key=_secret_key(request), now=ctx.clock.now()
            )
    except DomainError as error:
        if field_of(error) == "token":
            return render(request, "set_password.html", 410, token="", refused=friendly(error), errors={})
        errors[field_of(error) or "password"] = friendly(error)
    if errors:
        return render(request, "set_password.html", 422, token=token, email=user.email, errors=errors)
    session_of(request).flash(f"Password set for {user.email}. Sign in with it.")
    return RedirectResponse("/login", status_code=303)
