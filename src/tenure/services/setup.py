"""`tenure init`: the operator, its management client and the first admin, once."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tenure.domain import billing_refs
from tenure.domain.access import SYSTEM_ACTOR, Role
from tenure.domain.errors import ValidationFailed
from tenure.domain.model import ActivateMode, ClientType, Contact, Kind
from tenure.domain.policy import PRESETS
from tenure.services.accounts import CreateAccount, create_in
from tenure.services.auth import create_user_unchecked
from tenure.services.unit_of_work import UnitOfWork


class AlreadyInitialised(RuntimeError):
    """The database already has an operator; init changes nothing."""


def initialise(
    uow: UnitOfWork,
    *,
    operator_name: str,
    admin_email: str,
    admin_password: str,
    timezone: str = "Europe/London",
    policy: str = "connect",
    billing_prefix: str = billing_refs.DEFAULT_PREFIX,
    secret_key: str | None = None,
    now: datetime,
) -> str:
    """Create the installation; returns the operator's id."""
    _check_timezone(timezone)
    if policy not in PRESETS:
        raise ValidationFailed(f"policy must be one of {', '.join(PRESETS)}", field="policy")
    billing_refs.validate_prefix(billing_prefix)
    with uow:
        if uow.site_settings.exists():
            raise AlreadyInitialised("Tenure is already initialised here; nothing was changed")
        uow.site_settings.create(
            operator_id=None,
            timezone=timezone,
            policy_name=policy,
            policy_matrix=None,
            billing_prefix=billing_prefix,
            billing_seq=0,
            secret_key=secret_key or secrets.token_urlsafe(48),
        )
        contact = Contact(operator_name, admin_email)
        operator = create_in(
            uow,
            parent=None,
            request=CreateAccount(Kind.OPERATOR, "", operator_name, contact),
            actor=SYSTEM_ACTOR,
            now=now,
        )
        uow.site_settings.set_operator(operator.id)
        management = CreateAccount(
            Kind.CLIENT,
            operator.id,
            f"{operator_name} (management)",
            contact,
            client_type=ClientType.VIRTUAL,
            activate=ActivateMode.ON_START_DATE,
            notes="The operator's own staff.",
        )
        create_in(uow, parent=operator, request=management, actor=SYSTEM_ACTOR, now=now, is_management=True)
        create_user_unchecked(
            uow, email=admin_email, password=admin_password, account_id=operator.id, role=Role.ADMIN, now=now
        )
        uow.commit()
    return operator.id


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationFailed(f"unknown time zone {name!r}", field="timezone") from error
