"""lifecycle.md §4 on the pure domain: the entitlement table row by row, for both presets."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from tenure.domain import notifications, policy
from tenure.domain.errors import ValidationFailed
from tenure.domain.model import AncestorHold, Hold, HoldReason, Kind, Stage, Status
from tenure.domain.policy import CONNECT, METIS, Capability, Policy, Subject, decide, effective, is_billed

C = Capability
# The spec's table, typed in as written: capability -> (active, suspended connect, suspended metis,
# new/scheduled, inactive).
TABLE: dict[Capability, tuple[bool, bool, bool, bool, bool]] = {
    C.OUTBOUND_CALLS: (True, False, False, False, False),
    C.INBOUND_CALLS: (True, True, True, False, False),
    C.INTERNET: (True, False, True, False, False),
    C.LOCAL_NETWORK: (True, True, True, False, False),
    C.PORTAL_LOGIN: (True, True, False, True, False),
}
BILLED = (True, True, True, False, False)

SINCE = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def _expected(preset: Policy, status: Status, row: tuple[bool, bool, bool, bool, bool]) -> bool:
    active, suspended_connect, suspended_metis, not_started, inactive = row
    return {
        Status.ACTIVE: active,
        Status.SUSPENDED: suspended_connect if preset is CONNECT else suspended_metis,
        Status.NEW: not_started,
        Status.SCHEDULED: not_started,
        Status.INACTIVE: inactive,
    }[status]


def _hold(reason: HoldReason = HoldReason.FRAUD, at: datetime = SINCE) -> Hold:
    return Hold("h1", "acc1", reason, "", at, "ops@x")


def _subject(stage: Stage, status: Status, **fields: object) -> Subject:
    values: dict[str, object] = {"name": "Acme Ltd", "kind": "client", "holds": (), "inherited": None}
    if status is Status.SUSPENDED and "inherited" not in fields:
        values["holds"] = (_hold(),)
    values.update(fields)
    return Subject(stage=stage, status=status, **values)  # type: ignore[arg-type]


STAGE_OF = {
    Status.ACTIVE: Stage.ACTIVE,
    Status.SUSPENDED: Stage.ACTIVE,
    Status.NEW: Stage.NEW,
    Status.SCHEDULED: Stage.SCHEDULED,
    Status.INACTIVE: Stage.DECOMMISSIONED,
}


@pytest.mark.parametrize("preset", [CONNECT, METIS], ids=lambda p: p.name)
@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("capability", list(Capability))
def test_the_entitlement_table(preset: Policy, status: Status, capability: Capability) -> None:
    expected = _expected(preset, status, TABLE[capability])
    assert preset.allows(status, capability) is expected
    assert decide(preset, _subject(STAGE_OF[status], status), capability).allowed is expected
    assert preset.as_matrix()[capability.value][status.value] is expected


@pytest.mark.parametrize("preset", [CONNECT, METIS], ids=lambda p: p.name)
@pytest.mark.parametrize("status", list(Status))
def test_the_billed_row(preset: Policy, status: Status) -> None:
    expected = _expected(preset, status, BILLED)
    assert is_billed(preset, status, STAGE_OF[status]) is expected
    assert preset.as_matrix()["billed"][status.value] is expected


def test_presets_by_name() -> None:
    assert policy.PRESETS == {"connect": CONNECT, "metis": METIS}


@pytest.mark.parametrize("preset", [CONNECT, METIS], ids=lambda p: p.name)
def test_a_client_suspended_only_through_its_channel_gets_the_suspended_row(preset: Policy) -> None:
    inherited = AncestorHold("ch1", "North Sales", Kind.CHANNEL, HoldReason.FRAUD, SINCE)
    subject = _subject(Stage.ACTIVE, Status.SUSPENDED, inherited=inherited)
    decisions = policy.decide_all(preset, subject)
    for capability, decision in decisions.items():
        assert decision.allowed is _expected(preset, Status.SUSPENDED, TABLE[capability])
    denied = decisions[C.OUTBOUND_CALLS]
    assert denied.because == "suspended: fraud hold on channel North Sales since 2026-11-02"
    assert (
        decisions[C.INBOUND_CALLS].because
        == "allowed while suspended: fraud hold on channel North Sales since 2026-11-02"
    )


@pytest.mark.parametrize("preset", [CONNECT, METIS], ids=lambda p: p.name)
@pytest.mark.parametrize("stage", [Stage.NEW, Stage.SCHEDULED])
def test_a_not_started_account_suspended_through_an_ancestor_gains_nothing(preset: Policy, stage: Stage) -> None:
    own = effective(preset, stage, Status(stage.value))
    through_ancestor = effective(preset, stage, Status.SUSPENDED)
    assert through_ancestor <= own
    assert through_ancestor == own & preset.allowed[Status.SUSPENDED]
    # metis lets a suspended account use the internet; a new one under a suspended channel still may not
    assert C.INTERNET not in through_ancestor
    assert not is_billed(preset, Status.SUSPENDED, stage)


def test_metis_takes_portal_login_from_a_new_client_under_a_suspended_channel() -> None:
    assert effective(METIS, Stage.NEW, Status.SUSPENDED) == frozenset()
    assert effective(CONNECT, Stage.NEW, Status.SUSPENDED) == frozenset({C.PORTAL_LOGIN})


# -- reasons ---------------------------------------------------------------


def test_reasons_name_hold_reason_account_and_date() -> None:
    subject = _subject(Stage.ACTIVE, Status.SUSPENDED, holds=(_hold(HoldReason.NON_PAYMENT),))
    assert decide(CONNECT, subject, C.OUTBOUND_CALLS).because == (
        "suspended: non-payment hold on client Acme Ltd since 2026-11-02"
    )


def test_several_own_holds_are_listed_oldest_first() -> None:
    holds = (_hold(HoldReason.OTHER, datetime(2026, 11, 5, tzinfo=UTC)), _hold(HoldReason.FRAUD))
    subject = _subject(Stage.ACTIVE, Status.SUSPENDED, holds=holds)
    assert decide(CONNECT, subject, C.INTERNET).because == (
        "suspended: fraud hold on client Acme Ltd since 2026-11-02; other hold on client Acme Ltd since 2026-11-05"
    )


def test_the_since_date_is_the_operators_date() -> None:
    late = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)  # already 3 November in Tokyo
    subject = _subject(Stage.ACTIVE, Status.SUSPENDED, holds=(_hold(at=late),), zone=ZoneInfo("Asia/Tokyo"))
    assert decide(CONNECT, subject, C.INTERNET).because.endswith("since 2026-11-03")
    inherited = AncestorHold("ch1", "North Sales", Kind.CHANNEL, HoldReason.FRAUD, late)
    subject = _subject(Stage.ACTIVE, Status.SUSPENDED, inherited=inherited, zone=ZoneInfo("Asia/Tokyo"))
    assert decide(CONNECT, subject, C.INTERNET).because.endswith("since 2026-11-03")


@pytest.mark.parametrize(
    ("status", "fields", "because"),
    [
        (Status.ACTIVE, {}, "active"),
        (Status.NEW, {}, "not yet active: the account is new and waiting to be activated"),
        (Status.SCHEDULED, {"start_date": date(2026, 12, 1)}, "not yet active: scheduled to start on 2026-12-01"),
        (Status.INACTIVE, {"decommissioned_on": date(2026, 11, 20)}, "inactive: decommissioned on 2026-11-20"),
    ],
)
def test_reasons_for_the_other_statuses(status: Status, fields: dict[str, object], because: str) -> None:
    subject = _subject(STAGE_OF[status], status, **fields)
    assert decide(CONNECT, subject, C.OUTBOUND_CALLS).because == because


# -- custom matrices, summaries, notifications -----------------------------


@pytest.mark.parametrize("preset", [CONNECT, METIS], ids=lambda p: p.name)
def test_a_matrix_round_trips(preset: Policy) -> None:
    again = policy.from_matrix(preset.as_matrix(), preset.name)
    assert dict(again.allowed) == dict(preset.allowed) and again.billed == preset.billed


def test_a_custom_matrix_must_be_complete_and_never_serve_the_inactive() -> None:
    matrix = CONNECT.as_matrix()
    with pytest.raises(ValidationFailed):
        policy.from_matrix({**matrix, "teleport": matrix["internet"]})
    with pytest.raises(ValidationFailed):
        policy.from_matrix({**matrix, "internet": {"active": True}})
    with pytest.raises(ValidationFailed):
        policy.from_matrix({**matrix, "internet": {**matrix["internet"], "inactive": True}})
    with pytest.raises(ValidationFailed):
        policy.from_matrix({**matrix, "billed": {**matrix["billed"], "inactive": True}})


def test_what_stops_and_what_goes_on_when_suspended() -> None:
    assert policy.suspension_summary(CONNECT) == (
        (C.OUTBOUND_CALLS, C.INTERNET),
        (C.INBOUND_CALLS, C.LOCAL_NETWORK, C.PORTAL_LOGIN),
    )
    assert policy.suspension_summary(METIS) == (
        (C.OUTBOUND_CALLS, C.PORTAL_LOGIN),
        (C.INBOUND_CALLS, C.INTERNET, C.LOCAL_NETWORK),
    )


def test_policies_equal_by_value_hash_alike_so_cached_summaries_follow_a_policy_change() -> None:
    copy = policy.from_matrix(CONNECT.as_matrix(), name=CONNECT.name)
    assert copy == CONNECT and hash(copy) == hash(CONNECT)
    assert policy.suspension_summary(METIS) != policy.suspension_summary(CONNECT)


def test_which_stages_see_their_capabilities_change_with_suspension() -> None:
    assert notifications.stages_whose_capabilities_follow_suspension(CONNECT) == {Stage.ACTIVE}
    assert notifications.stages_whose_capabilities_follow_suspension(METIS) == {
        Stage.NEW,
        Stage.SCHEDULED,
        Stage.ACTIVE,
    }


def test_capabilities_changed() -> None:
    active = (Stage.ACTIVE, Status.ACTIVE)
    assert notifications.capabilities_changed(CONNECT, active, (Stage.ACTIVE, Status.SUSPENDED))
    assert not notifications.capabilities_changed(CONNECT, (Stage.NEW, Status.NEW), (Stage.SCHEDULED, Status.SCHEDULED))
    assert notifications.capabilities_changed(CONNECT, (Stage.SCHEDULED, Status.SCHEDULED), active)


def test_every_webhook_event_of_the_api_is_known() -> None:
    assert set(notifications.WEBHOOK_EVENT_TYPES) == {
        "account.activated",
        "account.suspended",
        "account.unsuspended",
        "account.decommission_scheduled",
        "account.decommission_cancelled",
        "account.decommissioned",
        "account.converted",
        "entitlements.changed",
    }
