"""Test helpers: an initialised installation with short ways to build a tree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine

from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller, Role
from tenure.domain.model import Account, Contact, HoldReason, Kind
from tenure.services import accounts as svc
from tenure.services import auth
from tenure.services.cascades import expand_cascades
from tenure.services.setup import initialise

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ADMIN_EMAIL = "admin@operator.example"
PASSWORD = "correct horse battery"


class MutableClock:
    """A clock tests move by hand."""

    def __init__(self, moment: datetime = START) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment


@dataclass
class Installation:
    engine: Engine
    clock: MutableClock
    operator_id: str
    admin: Caller

    @classmethod
    def start(
        cls, engine: Engine, clock: MutableClock, *, timezone: str = "Europe/London", policy: str = "connect"
    ) -> Installation:
        operator_id = initialise(
            UnitOfWork(engine),
            operator_name="Meridian",
            admin_email=ADMIN_EMAIL,
            admin_password=PASSWORD,
            timezone=timezone,
            policy=policy,
            now=clock.now(),
        )
        with UnitOfWork(engine) as uow:
            user = uow.users.by_email(ADMIN_EMAIL)
            assert user is not None
        return cls(engine, clock, operator_id, user.as_caller())

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def create(self, kind: Kind, parent_id: str | None, name: str, **extra: Any) -> Account:
        email = extra.pop("email", f"{name.lower().replace(' ', '.')}@example.com")
        caller = extra.pop("caller", self.admin)
        request = svc.CreateAccount(kind, parent_id or self.operator_id, name, Contact(name, email), **extra)
        return svc.create_account(self.uow(), caller=caller, request=request, now=self.now)

    def reseller(self, name: str = "Northwind", **extra: Any) -> Account:
        return self.create(Kind.RESELLER, None, name, **extra)

    def channel(self, parent_id: str | None = None, name: str = "North Sales", **extra: Any) -> Account:
        return self.create(Kind.CHANNEL, parent_id, name, **extra)

    def client(self, parent_id: str | None = None, name: str = "Acme Ltd", **extra: Any) -> Account:
        return self.create(Kind.CLIENT, parent_id, name, **extra)

    def get(self, account_id: str) -> Account:
        with self.uow().reading() as uow:
            return uow.accounts.get(account_id)

    def suspend(
        self, account_id: str, reason: HoldReason = HoldReason.NON_PAYMENT, caller: Caller | None = None
    ) -> Account:
        return svc.suspend(
            self.uow(),
            caller=caller or self.admin,
            account_id=account_id,
            reason=reason,
            note="",
            expected_version=None,
            now=self.now,
        )

    def unsuspend(self, account_id: str, reason: HoldReason | None = None) -> Account:
        return svc.unsuspend(
            self.uow(), caller=self.admin, account_id=account_id, reason=reason, expected_version=None, now=self.now
        )

    def fan_out(self) -> int:
        """What the worker does first in a pass: expand pending cascade jobs (a partner's (un)suspension)."""
        batches, done = expand_cascades(self.uow, now=self.now)
        assert done
        return batches

    def decommission(self, account_id: str, on: date | None = None) -> Account:
        return svc.decommission(
            self.uow(), caller=self.admin, account_id=account_id, on=on, expected_version=None, now=self.now
        )

    def user(self, account_id: str, role: Role, email: str) -> Caller:
        user = auth.create_user(
            self.uow(),
            caller=self.admin,
            email=email,
            password=PASSWORD,
            account_id=account_id,
            role=role,
            now=self.now,
        )
        return user.as_caller()
