"""Suspend and unsuspend answered before FastAPI's routing: the busiest changes, in one thread hop.

A billing system's dunning run suspends and restores accounts one call at a
time, so these two routes are the API's hottest writes (P1 in
docs/performance.md). FastAPI would walk every route, solve the dependency
graph in three thread hops and validate the parameters; here a request FastAPI
would accept as it is runs the same function as the route
(`routes/accounts.suspend_answer`, `unsuspend_answer`) in one hop.

"As it is" means: a `Content-Length` body (empty, or JSON the route's own model
accepts), a user's bearer token, and `If-Match` and `Idempotency-Key` within
their documented lengths. Anything else (no credential or an API key, a body
that is not JSON or does not validate, a chunked body) goes on to the FastAPI
route with its body replayed, which answers as it always has. Checks happen in
the route's order: the token before `If-Match`, both before the change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.responses import JSONResponse

from tenure.domain.api_keys import looks_like_key
from tenure.entrypoints.api.changes import MAX_TOKEN, ChangeRequest
from tenure.entrypoints.api.deps import version_from_if_match
from tenure.entrypoints.api.routes.accounts import suspend_answer, unsuspend_answer
from tenure.entrypoints.api.schemas import SuspendIn, UnsuspendIn
from tenure.entrypoints.context import AppContext
from tenure.services import auth

ACCOUNTS = "/api/v1/accounts/"
MAX_ACCOUNT_ID = 64  # `AccountId`'s length
MAX_IF_MATCH, MAX_KEY = 100, 255  # the headers' documented lengths (deps.py)
# (change, account id, the route's body model or None, expected version, Idempotency-Key) -> answer
Answer = Callable[[ChangeRequest, str, Any, int | None, str | None], JSONResponse]


@dataclass(frozen=True)
class Action:
    model: type[BaseModel]
    body_required: bool
    answer: Answer


ACTIONS = {
    "suspend": Action(SuspendIn, True, suspend_answer),
    "unsuspend": Action(UnsuspendIn, False, unsuspend_answer),
}


@dataclass(frozen=True)
class LeanChange:
    """A change request FastAPI would accept as it is, parsed."""

    action: Action
    account_id: str
    token: str
    body: BaseModel | None
    if_match: str | None
    key: str | None


def route_of(path: str) -> tuple[str, str] | None:
    """(account id, action) of `/api/v1/accounts/{id}/suspend|unsuspend`, else None."""
    if not path.startswith(ACCOUNTS):
        return None
    account_id, _, action = path[len(ACCOUNTS) :].partition("/")
    if action not in ACTIONS or not 0 < len(account_id) <= MAX_ACCOUNT_ID:
        return None
    return account_id, action


def parse(path: str, headers: list[tuple[bytes, bytes]], token: str | None, raw: bytes) -> LeanChange | None:
    """The request, or None when FastAPI's route should see it (it then answers as it always has).

    `token`: the bearer credential as the lean path reads it (`lean._bearer`).
    """
    found = route_of(path)
    if found is None:
        return None
    account_id, name = found
    action = ACTIONS[name]
    if_match, key = _header(headers, b"if-match"), _header(headers, b"idempotency-key")
    if token is None or len(token) > MAX_TOKEN or looks_like_key(token):
        return None
    if (if_match is not None and len(if_match) > MAX_IF_MATCH) or (key is not None and not 0 < len(key) <= MAX_KEY):
        return None
    accepted, body = _body(action, raw, _header(headers, b"content-type"))
    if not accepted:
        return None
    return LeanChange(action, account_id, token, body, if_match, key)


def run(ctx: AppContext, change: LeanChange) -> JSONResponse:
    """`change_request` and the route, in the same order and the same unit of work (sync: one hop)."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        caller, _token_id = auth.caller_for_token(uow, token=change.token, now=now)
        version = version_from_if_match(change.if_match)
        return change.action.answer(
            ChangeRequest(uow, caller, now), change.account_id, change.body, version, change.key
        )


def _body(action: Action, raw: bytes, content_type: str | None) -> tuple[bool, BaseModel | None]:
    """(accepted, the validated body or None for an absent optional one); not accepted: FastAPI's to answer."""
    if not raw:
        return not action.body_required, None
    if content_type is None or content_type.split(";")[0].strip().lower() != "application/json":
        return False, None
    try:
        return True, action.model.model_validate(json.loads(raw))
    except (ValueError, ValidationError):  # not JSON (json's ValueError), or not this body
        return False, None


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The first value of `name`, as Starlette's `headers.get` (which FastAPI's parameters use) reads it."""
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None
