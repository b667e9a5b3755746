"""`tenure demo`: a believable installation to look around in.

A business centre with a reseller and two channels; clients in every status,
suspended for each reason and through a channel, decommissioned, and
scheduled both to start and to go. Everything goes through the use cases.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from tenure.domain.access import Caller, Role
from tenure.domain.model import Account, ActivateMode, ClientType, Contact, HoldReason, Kind
from tenure.entrypoints.context import unit_of_work
from tenure.entrypoints.demo_catalog import number_of, populate_catalog
from tenure.services import accounts as svc
from tenure.services.auth import create_user
from tenure.services.common import today
from tenure.services.setup import initialise
from tenure.services.unit_of_work import UnitOfWork

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "tenure-demo-password"
PARTNER_EMAIL = "partner@example.com"
VIEWER_EMAIL = "viewer@example.com"
MARKER = "NW-RESELLER"

CLIENT_NAMES = [
    "Acme Ltd",
    "Birchwood Design",
    "Copperleaf Legal",
    "Dunmore Analytics",
    "Elm Street Dental",
    "Foxglove Media",
    "Granite Capital",
    "Harbour Logistics",
    "Ivy Lane Studio",
    "Juniper Health",
    "Kestrel Consulting",
    "Larkspur Architects",
    "Meadow Accounting",
    "Northgate Recruitment",
    "Oakridge Tutors",
    "Pinecrest Events",
    "Quayside Travel",
    "Riverbank Software",
    "Saffron Catering",
    "Thistle Insurance",
    "Umber Photography",
    "Valley Engineering",
    "Willow Therapy",
    "Xenon Labs",
    "Yarrow Publishing",
    "Zephyr Translations",
    "Ashford Partners",
    "Bramble & Co",
    "Cobalt Security",
    "Driftwood Films",
]


def load_demo(engine: Engine, *, now: datetime, url: str = "http://127.0.0.1:8000") -> list[str]:
    """Initialise if needed, add the demo data once, and say how to sign in."""
    with unit_of_work(engine).reading() as uow:
        initialised = uow.site_settings.exists()
        loaded = uow.accounts.billing_ref_in_use(MARKER)
    if not initialised:
        initialise(
            unit_of_work(engine),
            operator_name="Meridian Business Centre",
            admin_email=ADMIN_EMAIL,
            admin_password=ADMIN_PASSWORD,
            timezone="Europe/London",
            policy="connect",
            now=now,
        )
    if not loaded:
        _populate(engine, now)
    return [
        "Demo data is ready.",
        f"  operator admin: {ADMIN_EMAIL} / {ADMIN_PASSWORD}",
        f"  reseller admin: {PARTNER_EMAIL} / {ADMIN_PASSWORD}",
        f"  viewer:         {VIEWER_EMAIL} / {ADMIN_PASSWORD}",
        "  a suspended client's number (fraud hold), as a softswitch asks:",
        '    curl -H "Authorization: Bearer $(tenure token --email admin@example.com)" \\',
        f"      '{url}/api/v1/entitlements/numbers/{_e164(number_of(11))}?capability=outbound_calls'",
    ]


class _Builder:
    def __init__(self, engine: Engine, now: datetime) -> None:
        self.engine = engine
        self.now = now
        with unit_of_work(engine).reading() as uow:
            self.operator_id = uow.site.operator_id
            self.today = today(uow, now)
            admin = uow.users.by_email(ADMIN_EMAIL)
        self.caller = (
            admin.as_caller() if admin else Caller("demo", "demo", self.operator_id, Kind.OPERATOR, Role.ADMIN)
        )

    def uow(self) -> UnitOfWork:
        return unit_of_work(self.engine)

    def account(self, kind: Kind, parent: str, name: str, **extra: object) -> Account:
        email = name.lower().replace(" ", ".").replace("&", "and") + "@example.com"
        request = svc.CreateAccount(kind, parent, name, Contact(f"{name} contact", email), **extra)  # type: ignore[arg-type]
        return svc.create_account(self.uow(), caller=self.caller, request=request, now=self.now)

    def suspend(self, account: Account, reason: HoldReason, note: str) -> None:
        svc.suspend(
            self.uow(),
            caller=self.caller,
            account_id=account.id,
            reason=reason,
            note=note,
            expected_version=None,
            now=self.now,
        )

    def decommission(self, account: Account, on: date | None = None) -> None:
        svc.decommission(
            self.uow(), caller=self.caller, account_id=account.id, on=on, expected_version=None, now=self.now
        )


def _populate(engine: Engine, now: datetime) -> None:
    b = _Builder(engine, now)
    day = b.today
    reseller = b.account(Kind.RESELLER, b.operator_id, "Northwind Telecom", billing_ref=MARKER)
    north = b.account(Kind.CHANNEL, reseller.id, "North Sales")
    south = b.account(Kind.CHANNEL, reseller.id, "South Sales")
    parents = [b.operator_id, north.id, south.id, reseller.id]
    made: list[Account] = []
    for index, name in enumerate(CLIENT_NAMES):
        parent = parents[index % len(parents)]
        start = day - timedelta(days=30 * (index % 12) + 3)
        extra: dict[str, object] = {"start_date": start}
        if index % 5 == 4:
            extra["client_type"] = ClientType.VIRTUAL
        if index == 3:
            extra["end_date"] = day - timedelta(days=10)  # contract expired, still in service
        if index in (6, 7):
            extra = {"start_date": day + timedelta(days=14 + index)}  # scheduled
        if index in (8, 9):
            extra = {"activate": ActivateMode.MANUAL, "start_date": day + timedelta(days=3)}  # New
        made.append(b.account(Kind.CLIENT, parent, name, **extra))
    populate_catalog(engine, b.caller, made, now=now)
    b.suspend(made[10], HoldReason.NON_PAYMENT, "Invoice 2026-104 unpaid after 30 days")
    b.suspend(made[11], HoldReason.FRAUD, "Unusual international call volume")
    b.suspend(made[12], HoldReason.REQUESTED, "Office closed for refurbishment")
    b.suspend(made[13], HoldReason.OTHER, "Line fault investigation")
    b.suspend(made[5], HoldReason.FRAUD, "Chargeback on card payment")  # under South Sales: stays suspended after it
    b.suspend(south, HoldReason.NON_PAYMENT, "Channel invoice overdue")
    b.decommission(made[14])
    b.decommission(made[15])
    b.decommission(made[16], on=day + timedelta(days=7))
    b.decommission(made[17], on=day + timedelta(days=21))
    admin_kw = {"password": ADMIN_PASSWORD, "now": now}
    create_user(b.uow(), caller=b.caller, email=PARTNER_EMAIL, account_id=reseller.id, role=Role.ADMIN, **admin_kw)  # type: ignore[arg-type]
    create_user(b.uow(), caller=b.caller, email=VIEWER_EMAIL, account_id=b.operator_id, role=Role.VIEWER, **admin_kw)  # type: ignore[arg-type]
    create_user(
        b.uow(),
        caller=b.caller,
        email="portal@acme.example.com",
        account_id=made[0].id,
        role=Role.PORTAL,
        **admin_kw,  # type: ignore[arg-type]
    )


def _e164(number: str) -> str:
    return number.replace(" ", "")
