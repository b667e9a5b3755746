"""Words live beside what they describe (issue 15 §5): action labels on `Action`, a refusal's field on its error."""

from __future__ import annotations

from tenure.domain.errors import BillingRefTaken, InvalidTransition, ValidationFailed
from tenure.domain.events import Action
from tenure.entrypoints.console.forms import field_of


def test_every_audit_action_has_a_label_of_its_own() -> None:
    labels = [action.label for action in Action]
    assert len(set(labels)) == len(labels)
    assert Action.DECOMMISSION_CANCELLED.label == "Scheduled decommission cancelled"
    assert Action.UPDATED.label == "Edited"


def test_a_taken_billing_ref_marks_the_billing_ref_field_without_naming_its_code() -> None:
    assert field_of(BillingRefTaken("billing ref TEN-1 is already in use")) == "billing_ref"
    assert field_of(ValidationFailed("end_date must not be before start_date", field="end_date")) == "end_date"
    assert field_of(InvalidTransition("no")) is None
