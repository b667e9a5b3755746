"""Ids made one after another sort in the order they were made, even within one millisecond."""

from __future__ import annotations

from tenure.domain.ids import new_id


def test_ids_of_one_process_strictly_increase() -> None:
    made = [new_id() for _ in range(5_000)]  # far more than one millisecond's worth
    assert made == sorted(made) and len(set(made)) == len(made)
    assert all(len(i) == 26 for i in made)


def test_an_id_for_a_given_instant_keeps_that_instant() -> None:
    early, late = new_id(now_ms=1_000), new_id(now_ms=2_000)
    assert early < late < new_id()
    assert early[:10] == new_id(now_ms=1_000)[:10]  # the first 10 characters are the milliseconds
