"""lifecycle.md §1 on the pure domain: the tree, names, billing refs, dates, and creation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tenure.domain import billing_refs, checks, lifecycle
from tenure.domain.errors import AccountDecommissioned, DomainError, InvalidTransition, ValidationFailed
from tenure.domain.events import Action
from tenure.domain.model import (
    ALLOWED_PARENTS,
    Account,
    ActivateMode,
    AncestorHold,
    ClientType,
    Contact,
    HoldReason,
    Kind,
    Stage,
    Status,
)
from tests.unit.builders import NOW, TODAY, account, client, held, hold, through

CONTACT = Contact("Ann", "ann@example.com")


def _request(kind: Kind = Kind.CLIENT, **fields: object) -> lifecycle.NewAccount:
    values: dict[str, object] = {"id": "new0001", "kind": kind, "name": "Acme Ltd", "billing_ref": "TEN-000009"}
    values.update(fields)
    values.setdefault("main_contact", CONTACT)
    return lifecycle.NewAccount(**values)  # type: ignore[arg-type]


def _create(request: lifecycle.NewAccount, parent: Account | None) -> Account:
    return lifecycle.create(request, parent=parent, today=TODAY, now=NOW)[0]


# -- the tree --------------------------------------------------------------

PARENT_RULES = [
    (Kind.RESELLER, Kind.OPERATOR, True),
    (Kind.RESELLER, Kind.RESELLER, False),
    (Kind.RESELLER, Kind.CHANNEL, False),
    (Kind.RESELLER, Kind.CLIENT, False),
    (Kind.CHANNEL, Kind.OPERATOR, True),
    (Kind.CHANNEL, Kind.RESELLER, True),
    (Kind.CHANNEL, Kind.CHANNEL, False),
    (Kind.CHANNEL, Kind.CLIENT, False),
    (Kind.CLIENT, Kind.OPERATOR, True),
    (Kind.CLIENT, Kind.RESELLER, True),
    (Kind.CLIENT, Kind.CHANNEL, True),
    (Kind.CLIENT, Kind.CLIENT, False),
    (Kind.OPERATOR, Kind.OPERATOR, False),
    (Kind.OPERATOR, Kind.RESELLER, False),
]


@pytest.mark.parametrize(("kind", "parent_kind", "allowed"), PARENT_RULES)
def test_which_kind_may_sit_under_which(kind: Kind, parent_kind: Kind, allowed: bool) -> None:
    parent = account(parent_kind)
    request = _request(kind)
    if allowed:
        created = _create(request, parent)
        assert created.kind is kind and created.parent_id == parent.id
    else:
        with pytest.raises(InvalidTransition):
            _create(request, parent)


def test_the_parent_table_is_the_one_in_the_spec() -> None:
    assert {(k, p) for k, p, ok in PARENT_RULES if ok} == {(k, p) for k, ps in ALLOWED_PARENTS.items() for p in ps}


def test_only_the_operator_has_no_parent() -> None:
    assert _create(_request(Kind.OPERATOR), None).parent_id is None
    for kind in (Kind.RESELLER, Kind.CHANNEL, Kind.CLIENT):
        with pytest.raises(ValidationFailed):
            _create(_request(kind), None)


def test_nothing_is_created_under_a_decommissioned_parent() -> None:
    parent = account(Kind.CHANNEL, stage=Stage.DECOMMISSIONED)
    with pytest.raises(AccountDecommissioned):
        _create(_request(Kind.CLIENT), parent)
    # the decommissioned check comes before the parent-kind rule
    with pytest.raises(AccountDecommissioned):
        _create(_request(Kind.RESELLER), parent)


def test_partners_are_created_active_with_no_client_fields() -> None:
    for kind, parent_kind in ((Kind.RESELLER, Kind.OPERATOR), (Kind.CHANNEL, Kind.RESELLER)):
        created = _create(_request(kind), account(parent_kind))
        assert created.stage is Stage.ACTIVE
        assert created.start_date is None and created.end_date is None and created.client_type is None


@pytest.mark.parametrize(
    "fields", [{"start_date": TODAY}, {"end_date": TODAY}, {"client_type": ClientType.VIRTUAL}], ids=str
)
def test_client_only_fields_are_refused_on_partners(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationFailed):
        _create(_request(Kind.CHANNEL, **fields), account(Kind.OPERATOR))


def test_create_records_a_created_event_with_the_fields() -> None:
    created, event = lifecycle.create(_request(), parent=account(Kind.OPERATOR), today=TODAY, now=NOW)
    assert event.action is Action.CREATED and event.account_id == created.id
    assert event.before == {}
    assert event.after["name"] == "Acme Ltd" and event.after["stage"] == "active"
    assert event.after["start_date"] == TODAY.isoformat()
    assert created.version == 1 and created.created_at == NOW


def test_a_child_of_a_suspended_parent_is_born_suspended_through_it() -> None:
    channel = held(account(Kind.CHANNEL, name="North Sales"), HoldReason.OTHER)
    oldest = hold(channel, HoldReason.FRAUD, days_ago=3)
    channel.holds.append(oldest)
    created, event = lifecycle.create(_request(), parent=channel, today=TODAY, now=NOW)
    assert created.status is Status.SUSPENDED and created.holds == []
    assert created.inherited == AncestorHold(
        channel.id, "North Sales", Kind.CHANNEL, HoldReason.FRAUD, oldest.placed_at
    )
    assert event.after["status"] == "suspended"
    # under a channel suspended only through its reseller, the reseller is named
    grand = account(Kind.CHANNEL, inherited=through("Northwind", kind=Kind.RESELLER))
    assert _create(_request(), grand).inherited == grand.inherited
    assert _create(_request(), account(Kind.CHANNEL)).inherited is None


# -- names -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["A", "x" * 200, "  Acme Ltd  ", "Ünïcode Café"])
def test_names_of_1_to_200_characters_are_accepted_and_trimmed(name: str) -> None:
    assert checks.clean_name(name) == name.strip()


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_empty_or_overlong_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        checks.clean_name(name)
    assert raised.value.code == "validation-error"
    with pytest.raises(ValidationFailed):
        _create(_request(name=name), account(Kind.OPERATOR))


# -- billing refs ----------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "sequence", "ref"),
    [
        ("TEN", 1, "TEN-000001"),
        ("TEN", 42, "TEN-000042"),
        ("MER", 999_999, "MER-999999"),
        ("TEN", 1_234_567, "TEN-1234567"),
    ],
)
def test_generated_refs_are_prefix_dash_six_digits(prefix: str, sequence: int, ref: str) -> None:
    assert billing_refs.generated(prefix, sequence) == ref


@pytest.mark.parametrize("ref", ["A", "x" * 32, "ACME-01/2026_b", "0", "a-_/"])
def test_custom_refs_of_the_allowed_characters_are_accepted(ref: str) -> None:
    assert billing_refs.validate_custom(ref) == ref


@pytest.mark.parametrize("ref", ["", "x" * 33, "ACME 01", "ACME.01", "Café", "A+B", "ref\n", "#1"])
def test_other_custom_refs_are_refused(ref: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        billing_refs.validate_custom(ref)
    assert raised.value.code == "validation-error"


@pytest.mark.parametrize(
    ("prefix", "ok"), [("TEN", True), ("MER2", True), ("", False), ("TE-N", False), ("X" * 17, False)]
)
def test_billing_prefixes(prefix: str, ok: bool) -> None:
    if ok:
        assert billing_refs.validate_prefix(prefix) == prefix
    else:
        with pytest.raises(ValidationFailed):
            billing_refs.validate_prefix(prefix)


# -- dates -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 11, 23), date(2027, 11, 23)),
        (date(2028, 2, 29), date(2029, 2, 28)),  # no 29 February next year
        (date(2027, 2, 28), date(2028, 2, 28)),
        (date(2026, 12, 31), date(2027, 12, 31)),
    ],
)
def test_end_date_defaults_to_one_year_after_the_start(start: date, end: date) -> None:
    assert lifecycle.one_year_after(start) == end
    created = _create(_request(start_date=start), account(Kind.OPERATOR))
    assert created.start_date == start and created.end_date == end


def test_client_defaults_start_today_residential() -> None:
    created = _create(_request(), account(Kind.OPERATOR))
    assert created.start_date == TODAY
    assert created.end_date == date(2027, 11, 23)
    assert created.client_type is ClientType.RESIDENTIAL


def test_end_date_may_equal_but_not_precede_the_start() -> None:
    same = _create(_request(start_date=TODAY, end_date=TODAY), account(Kind.OPERATOR))
    assert same.end_date == TODAY
    with pytest.raises(ValidationFailed) as raised:
        _create(_request(start_date=TODAY, end_date=TODAY - timedelta(days=1)), account(Kind.OPERATOR))
    assert raised.value.extra == {"field": "end_date"}


def test_contract_expired_only_once_the_end_date_is_past() -> None:
    assert client(end_date=TODAY - timedelta(days=1)).contract_expired(TODAY)
    assert not client(end_date=TODAY).contract_expired(TODAY)
    assert not client(end_date=TODAY + timedelta(days=1)).contract_expired(TODAY)
    assert not account(Kind.CHANNEL).contract_expired(TODAY)


def test_an_expired_contract_has_no_effect_on_the_stage_or_status() -> None:
    expired = client(start_date=TODAY - timedelta(days=800), end_date=TODAY - timedelta(days=400))
    assert expired.contract_expired(TODAY)
    assert expired.status.value == "active"


# -- initial stage ---------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "start", "stage"),
    [
        (ActivateMode.ON_START_DATE, TODAY, Stage.ACTIVE),
        (ActivateMode.ON_START_DATE, TODAY - timedelta(days=30), Stage.ACTIVE),
        (ActivateMode.ON_START_DATE, TODAY + timedelta(days=1), Stage.SCHEDULED),
        (ActivateMode.MANUAL, TODAY, Stage.NEW),
        (ActivateMode.MANUAL, TODAY - timedelta(days=30), Stage.NEW),
        (ActivateMode.MANUAL, TODAY + timedelta(days=5), Stage.NEW),
    ],
)
def test_a_client_starts_active_scheduled_or_new(mode: ActivateMode, start: date, stage: Stage) -> None:
    created = _create(_request(start_date=start, activate=mode), account(Kind.OPERATOR))
    assert created.stage is stage
    assert created.start_date == start


def test_every_refusal_carries_a_stable_code() -> None:
    for error in (InvalidTransition("x"), AccountDecommissioned("x"), ValidationFailed("x")):
        assert isinstance(error, DomainError)
    assert (InvalidTransition.code, AccountDecommissioned.code, ValidationFailed.code) == (
        "invalid-transition",
        "account-decommissioned",
        "validation-error",
    )
