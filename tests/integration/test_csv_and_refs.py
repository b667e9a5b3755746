"""Every CSV escapes formula cells; billing refs are unique in any letter case, down to the database."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date

import pytest

from tenure.domain.catalog import LineKind
from tenure.domain.errors import BillingRefTaken
from tenure.services import billing, clients_csv
from tests.integration.catalog_kit import add
from tests.support import Installation


def test_the_clients_export_escapes_every_text_cell_and_imports_back_unchanged(site: Installation) -> None:
    channel = site.channel(name="+Channel", billing_ref="-CH1")
    site.client(channel.id, '=HYPERLINK("http://evil.example")', billing_ref="-1-1", email="ops@acme.example")
    site.client(channel.id, "Plain Ltd")
    site.client(channel.id, "@SUM(A1)", email="x@acme.example")
    exported = "".join(clients_csv.export_clients(site.uow(), caller=site.admin, include_inactive=False))
    rows = {row[0]: row for row in csv.reader(io.StringIO(exported))}
    assert rows['\'=HYPERLINK("http://evil.example")'][1] == "'-1-1"  # the billing ref too
    assert rows['\'=HYPERLINK("http://evil.example")'][6] == "'-CH1"  # and the parent's
    assert "'@SUM(A1)" in rows and "Plain Ltd" in rows
    for row in rows.values():
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)
    parsed = clients_csv.read_rows(io.StringIO(exported))
    assert not parsed.errors
    by_ref = {row.billing_ref: row for row in parsed.rows}
    assert by_ref["-1-1"].name == '=HYPERLINK("http://evil.example")'
    assert by_ref["-1-1"].parent_ref == "-CH1"


def test_the_charges_csv_escapes_names_labels_and_billing_refs(site: Installation) -> None:
    client = site.client(name="=cmd|' /C calc'!A0", billing_ref="-REF", start_date=date(2026, 11, 1))
    add(site, client.id, "+SUM(1)", kind=LineKind.INTERNET, price="30.00", start=date(2026, 11, 1))
    add(site, client.id, price="12.00", start=date(2026, 11, 1))  # a phone number: +44..., a plain number
    text = "".join(billing.month_csv(site.uow(), caller=site.admin, month="2026-11"))
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert {row[0] for row in rows} == {"'-REF"}
    assert {row[1] for row in rows} == {"'=cmd|' /C calc'!A0"}
    assert sorted(row[3] for row in rows) == ["'+SUM(1)", "+442079460000"]


def test_a_billing_ref_in_another_letter_case_is_taken(site: Installation) -> None:
    first = site.client(name="First", billing_ref="TEN-000005")
    with pytest.raises(BillingRefTaken):
        site.client(name="Second", billing_ref="ten-000005")
    header = ",".join(clients_csv.COLUMNS)
    parsed = clients_csv.read_rows(io.StringIO(f"{header}\nThird,Ten-000005,,,,a@b.example,\n"))
    with pytest.raises(clients_csv.ImportRejected) as rejected:
        clients_csv.import_clients(site.uow(), caller=site.admin, parsed=parsed, now=site.now)
    assert "Ten-000005 is already in use" in str(rejected.value.errors[0])
    same_file = clients_csv.read_rows(io.StringIO(f"{header}\nA,REF-1,,,,a@b.example,\nB,ref-1,,,,b@b.example,\n"))
    assert [str(e) for e in same_file.errors] == ["line 3: billing_ref ref-1 is also on line 2"]
    assert site.get(first.id).billing_ref == "TEN-000005"


def test_the_database_itself_refuses_a_ref_differing_only_in_case(site: Installation) -> None:
    """Past the service's check (a race, a script): the unique index on lower(billing_ref) says no."""
    first = site.client(name="First", billing_ref="ABC-1")
    twin = replace(site.get(first.id), id="01TWIN00000000000000000000", billing_ref="abc-1")
    uow = site.uow()
    with uow, pytest.raises(BillingRefTaken):
        uow.accounts.add(twin, now=site.now)
