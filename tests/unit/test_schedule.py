"""When a scheduled change is due (domain/schedule.py), and `activated_on` on every way into active.

The SQL form of the same rules (`status_sql.due`) is compared with these in the state machine
(tests/integration/test_state_machine.py) on both databases.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tenure.domain import lifecycle
from tenure.domain.model import Kind, Stage
from tenure.domain.schedule import ACTIVATION_DUE, DECOMMISSION_DUE
from tests.unit.builders import NOW, TODAY, account, client

DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))


@given(stage=st.sampled_from(Stage), start=DAYS, today=DAYS)
def test_an_activation_is_due_for_a_scheduled_account_from_its_start_date(
    stage: Stage, start: date, today: date
) -> None:
    assert ACTIVATION_DUE.holds(client(stage, start_date=start), today) is (stage is Stage.SCHEDULED and start <= today)


@given(stage=st.sampled_from(Stage), on=st.none() | DAYS, today=DAYS)
def test_a_decommission_is_due_on_its_date_unless_already_decommissioned(
    stage: Stage, on: date | None, today: date
) -> None:
    due = stage is not Stage.DECOMMISSIONED and on is not None and on <= today
    assert DECOMMISSION_DUE.holds(client(stage, decommission_on=on), today) is due


def test_every_way_into_active_records_the_day_and_no_other_move_does() -> None:
    born, _ = lifecycle.create(
        lifecycle.NewAccount("c1", Kind.CLIENT, "Acme", "REF-1", client().main_contact),
        parent=account(Kind.OPERATOR, name="Operator"),
        today=TODAY,
        now=NOW,
    )
    assert born.activated_on == TODAY
    manual = client(Stage.NEW)
    lifecycle.activate(manual, on=TODAY + timedelta(days=3), today=TODAY)  # scheduled, not active yet
    assert manual.activated_on is None
    lifecycle.activate(manual, on=None, today=TODAY + timedelta(days=1))
    assert manual.activated_on == TODAY + timedelta(days=1)
    scheduled = client(Stage.SCHEDULED, start_date=TODAY)
    lifecycle.start_date_reached(scheduled, today=TODAY + timedelta(days=2))
    assert scheduled.activated_on == TODAY + timedelta(days=2)
    lifecycle.decommission(scheduled, on=None, today=TODAY + timedelta(days=5), blocking_children=0)
    assert scheduled.activated_on == TODAY + timedelta(days=2)  # kept: billing asks whether it was active
