"""Who is looking: the console's signed-in user, and "view as client" with its audit line.

Looking at a client as its own users see it is recorded in the audit trail
(who and when), so a client can always learn which staff opened its view.
"""

from __future__ import annotations

from datetime import datetime

from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller
from tenure.domain.actions import can_view_as_client
from tenure.domain.errors import Forbidden, NotFound, Unauthorized
from tenure.domain.events import Action, Event
from tenure.services.auth import check_login_allowed
from tenure.services.browse import ClientDetail, detail_in


def caller_for_session(uow: UnitOfWork, *, user_id: str, generation: int | None) -> Caller:
    """The user behind a console session, checked on every request like a token.

    A deleted user, or a session from an older generation (signed out, or the
    password changed since), is signed out; a user whose account has since been
    suspended (where the policy denies portal login) or decommissioned gets
    `login-suspended`, exactly as at sign-in.
    """
    with uow.reading():
        try:
            user = uow.users.get(user_id)
        except NotFound as error:
            raise Unauthorized("your session has ended; sign in again") from error
        if generation != user.session_generation:
            raise Unauthorized("your session has ended; sign in again")
        check_login_allowed(uow, user)
    return user.as_caller()


def view_as_client(uow: UnitOfWork, *, caller: Caller, account_id: str, now: datetime) -> ClientDetail:
    """The client page as its users see it; records `viewed_as_client` with the viewer and the time.

    The look is recorded and the page read in one transaction: nobody sees a
    client's page without the trail saying so, and no record is left of a page
    that could not be shown.
    """
    with uow:
        account = uow.accounts.get(account_id, caller=caller)
        if not can_view_as_client(account, role=caller.role, caller_kind=caller.account_kind):
            raise Forbidden("only operator and partner admins can view a client as its users do")
        event = Event(account.id, Action.VIEWED_AS_CLIENT, after={"viewer": caller.email})
        uow.audit.append(event, actor=caller.email, at=now)
        detail = detail_in(uow, caller=caller, account=account, now=now)
        uow.commit()
    return detail
