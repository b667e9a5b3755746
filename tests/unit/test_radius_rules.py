"""The pure RADIUS rules: which changes cut sessions, and how accounting input is read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tenure.domain.errors import ValidationFailed
from tenure.domain.model import Stage, Status
from tenure.domain.policy import CONNECT, METIS
from tenure.domain.radius import (
    AcctStatus,
    NasSpec,
    check_nas,
    clean_network_id,
    parse_acct_status,
    parse_event_timestamp,
    stages_losing_internet_on_suspension,
    states_losing_internet,
)


def test_only_connect_cuts_internet_at_suspension_and_only_for_active_accounts() -> None:
    assert stages_losing_internet_on_suspension(CONNECT) == {Stage.ACTIVE}
    assert stages_losing_internet_on_suspension(METIS) == frozenset()


def test_a_policy_change_cuts_exactly_the_states_that_lose_internet() -> None:
    assert states_losing_internet(METIS, CONNECT) == {(Stage.ACTIVE, Status.SUSPENDED)}
    assert states_losing_internet(CONNECT, METIS) == frozenset()  # gaining internet reconnects nobody
    assert states_losing_internet(CONNECT, CONNECT) == frozenset()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Start", AcctStatus.START),
        ("start", AcctStatus.START),
        ("1", AcctStatus.START),
        ("Interim-Update", AcctStatus.INTERIM),
        ("3", AcctStatus.INTERIM),
        ("Alive", AcctStatus.INTERIM),
        ("Stop", AcctStatus.STOP),
        ("2", AcctStatus.STOP),
        ("7", AcctStatus.ACCOUNTING_ON),
    ],
)
def test_acct_status_type_by_name_or_number(given: str, expected: AcctStatus) -> None:
    assert parse_acct_status(given) is expected


@pytest.mark.parametrize("given", ["", "Reboot", "4", "Start\x00"])
def test_an_unknown_acct_status_type_is_refused(given: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_acct_status(given)


@pytest.mark.parametrize(
    "given", ["1795852800", "2026-11-28T08:00:00Z", "2026-11-28T08:00:00+00:00", "Nov 28 2026 08:00:00 UTC"]
)
def test_event_timestamps_in_every_form_freeradius_or_a_script_sends(given: str) -> None:
    assert parse_event_timestamp(given) == datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("given", ["a" * 253, "acme-ppp1@realm.example", " spaced ", "~"])
def test_network_ids_are_printable_ascii_up_to_253(given: str) -> None:
    assert clean_network_id(given) == given


@pytest.mark.parametrize("given", ["", "a" * 254, "nul\x00", "line\n", "caf\u00e9", "\x7f"])
def test_other_network_ids_are_refused(given: str) -> None:
    with pytest.raises(ValidationFailed):
        clean_network_id(given)


def test_a_nas_entry_is_checked_and_its_address_normalised() -> None:
    assert check_nas(NasSpec(" bng1 ", "2001:DB8::1", "s", 3799)) == NasSpec("bng1", "2001:db8::1", "s", 3799)
    for bad in (
        NasSpec("", "192.0.2.1", "s"),
        NasSpec("bng1", "192.0.2.300", "s"),
        NasSpec("bng1", "192.0.2.1", ""),
        NasSpec("bng1", "192.0.2.1", "s", 0),
        NasSpec("bng\x00", "192.0.2.1", "s"),
    ):
        with pytest.raises(ValidationFailed):
            check_nas(bad)
