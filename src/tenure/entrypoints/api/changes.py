"""An account change request as one unit of work: credential, change, answer and idempotency record.

The `change_request` dependency opens the request's unit of work and checks the
bearer token inside it; the route hands the same unit of work to the use case
(`services.accounts.suspend(uow, …)`, whose own `with uow:` joins the open
transaction), and the answer is built from the changed account held in memory,
so the token check, the change, the answer's read and the `Idempotency-Key`
record commit together: one transaction, one pooled connection per request.

API keys never change anything: a key (or a missing or oversized credential)
is refused by the shared `session` checks before any transaction opens, with
the same 401/403 as every other route.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller
from tenure.domain.api_keys import looks_like_key
from tenure.domain.errors import Forbidden
from tenure.domain.model import Account
from tenure.entrypoints.api import idempotency
from tenure.entrypoints.api.deps import Ctx, current_caller, oauth2, session
from tenure.entrypoints.api.presenters import account_out
from tenure.services import auth, queries

MAX_TOKEN = 512


@dataclass(frozen=True)
class ChangeRequest:
    """The open unit of work of one change request, its checked caller and the request's `now`."""

    uow: UnitOfWork
    caller: Caller
    now: datetime

    def answer(
        self, key: str | None, fingerprint: str, change: Callable[[], Account], *, status_code: int = 200
    ) -> JSONResponse:
        """Run `change` (a use case on `self.uow`), answer with the account it returns, then commit."""
        return idempotency.run_in(
            self.uow, self.caller, key, fingerprint, lambda: self.account(change(), status_code), now=self.now
        )

    def account(self, account: Account, status_code: int = 200) -> JSONResponse:
        """The changed account as GET shows it, from memory: only its offices are read (same transaction)."""
        view = queries.views(self.uow, [account], self.now)[0]
        body = account_out(view, caller=self.caller)
        return JSONResponse(body, status_code=status_code, headers={"ETag": f'"{account.version}"'})


def change_request(
    request: Request, ctx: Ctx, token: Annotated[str | None, Depends(oauth2)]
) -> Iterator[ChangeRequest]:
    """Open the request's unit of work and check the sign-in token in it (FastAPI closes it after the route)."""
    if not token or len(token) > MAX_TOKEN or looks_like_key(token):
        current_caller(request, session(ctx, token))  # 401, or 403 for a key: keys only read
        raise Forbidden("API keys only read; this request needs a signed-in user's token")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        caller, _token_id = auth.caller_for_token(uow, token=token, now=now)
        yield ChangeRequest(uow, caller, now)


Change = Annotated[ChangeRequest, Depends(change_request)]
