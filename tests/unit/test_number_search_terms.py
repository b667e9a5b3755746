"""Which search terms are read as the start of an international number (adapters.phone.search_prefix)."""

from __future__ import annotations

import pytest

from tenure.adapters.phone import search_prefix


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("+44 20 7946 0123", "+442079460123"),
        ("+442079460123", "+442079460123"),
        ("00442079460123", "+442079460123"),
        ("0044 (0)20 7946-0123", "+442079460123"),
        ("+44.20.7946.0123", "+442079460123"),
        ("\u00a0+44\u00a020 7946 0123 ", "+442079460123"),
        ("+1 (212) 555-0100", "+12125550100"),
        ("+44 20 79", "+442079"),  # six digits: the shortest prefix searched
    ],
)
def test_numbers_in_any_spelling_become_e164(term: str, expected: str) -> None:
    assert search_prefix(term) == expected


@pytest.mark.parametrize(
    "term",
    [
        "acme",
        "2079460123",  # no + or 00: a name or a ref's digits, not a number
        "TEN-000042",
        "000042",
        "+44 20",  # too short: would match a whole country
        "+0 20 7946 0123",  # no country code starts with 0
        "+44 20 7946 012x",
        "+" + "1" * 16,  # longer than E.164 allows
        "+\u0664\u0664\u0662\u0660\u0667\u0669",  # digits, but not ASCII ones
        "",
    ],
)
def test_other_terms_are_not_numbers(term: str) -> None:
    assert search_prefix(term) is None
