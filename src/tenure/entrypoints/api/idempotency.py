"""`Idempotency-Key` on POST: a repeat within 24 h returns the first answer and acts no more."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import datetime

from fastapi.responses import JSONResponse

from tenure.adapters.db.idempotency import PENDING, StoredAnswer
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller
from tenure.domain.errors import DomainError, IdempotencyKeyReused
from tenure.entrypoints.api.problems import PROBLEM, domain_problem
from tenure.entrypoints.context import AppContext

WAIT_FOR_TWIN_SECONDS = 10.0


def run(
    ctx: AppContext, caller: Caller, key: str | None, fingerprint: str, act: Callable[[], JSONResponse]
) -> JSONResponse:
    """Run `act` once per key; refused requests (4xx) are remembered too, as the first answer."""
    if key is None:
        return act()
    request_hash = hashlib.sha256(fingerprint.encode()).hexdigest()
    replay = _claim_or_replay(ctx, caller, key, request_hash)
    if replay is not None:
        return replay
    try:
        response = act()
    except DomainError as error:
        response = domain_problem(error)
    except BaseException:
        with ctx.uow() as uow:
            uow.idempotency.release(caller.user_id, key)
            uow.commit()
        raise
    with ctx.uow() as uow:
        uow.idempotency.store(caller.user_id, key, status_code=response.status_code, body=bytes(response.body).decode())
        uow.commit()
    return response


def run_in(
    uow: UnitOfWork,
    caller: Caller,
    key: str | None,
    fingerprint: str,
    act: Callable[[], JSONResponse],
    *,
    now: datetime,
) -> JSONResponse:
    """`run` inside the request's open unit of work: lookup, action and stored answer in one transaction.

    Commits when the answer is this request's own. A refusal (4xx) is remembered like an answer,
    with the action's writes undone by a savepoint. When an identical request stored its answer
    first, nothing is committed (the open block rolls this change back) and its answer is replayed.
    """
    if key is None:
        response = act()
        uow.commit()
        return response
    request_hash = hashlib.sha256(fingerprint.encode()).hexdigest()
    stored = uow.idempotency.lookup(caller.user_id, key, now=now)
    if stored is not None:
        return _answer_of(stored, request_hash)
    try:
        with uow.nested():
            response = act()
    except DomainError as error:
        response = domain_problem(error)
    body = bytes(response.body).decode()
    if uow.idempotency.record(caller.user_id, key, request_hash, status_code=response.status_code, body=body, now=now):
        uow.commit()
        return response
    first = uow.idempotency.lookup(caller.user_id, key, now=now)
    if first is None:  # pragma: no cover - the key was taken a moment ago and 24 h have not passed since
        raise IdempotencyKeyReused("a request with this Idempotency-Key is still being processed")
    return _answer_of(first, request_hash)


def _answer_of(stored: StoredAnswer, request_hash: str) -> JSONResponse:
    if stored.request_hash != request_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
    if stored.status_code == PENDING:  # claimed by `run` in another process and not answered yet
        raise IdempotencyKeyReused("a request with this Idempotency-Key is still being processed")
    return _replay(stored.status_code, stored.body)


def _claim_or_replay(ctx: AppContext, caller: Caller, key: str, request_hash: str) -> JSONResponse | None:
    deadline = time.monotonic() + WAIT_FOR_TWIN_SECONDS
    while True:
        with ctx.uow() as uow:
            now = ctx.clock.now()
            stored = uow.idempotency.find(caller.user_id, key, now=now)
            if stored is None:
                if uow.idempotency.claim(caller.user_id, key, request_hash, now=now):
                    uow.commit()
                    return None
                continue
        if stored.request_hash != request_hash:
            raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
        if stored.status_code != PENDING:
            return _replay(stored.status_code, stored.body)
        if time.monotonic() > deadline:
            raise IdempotencyKeyReused("a request with this Idempotency-Key is still being processed")
        time.sleep(0.05)


def _replay(status_code: int, body: str) -> JSONResponse:
    content = json.loads(body) if body else None
    headers = {"Idempotent-Replayed": "true"}
    if isinstance(content, dict) and isinstance(content.get("version"), int):
        headers["ETag"] = f'"{content["version"]}"'
    media = PROBLEM if status_code >= 400 else "application/json"
    return JSONResponse(content, status_code=status_code, headers=headers, media_type=media)
