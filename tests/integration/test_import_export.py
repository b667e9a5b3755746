"""`tenure import clients` and `tenure export clients`: all or nothing, every bad line named."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from tenure.adapters.db.tables import accounts
from tenure.adapters.phone import E164Numbers
from tenure.domain.catalog import LineKind
from tenure.domain.model import ClientType, Kind, Stage
from tenure.domain.policy import Capability
from tenure.entrypoints.cli import app
from tenure.services import clients_csv, entitlements, lines
from tests.support import Installation

HEADER = "name,billing_ref,type,start,end,contact,parent_billing_ref\n"


def _count(site: Installation) -> int:
    with site.uow().reading() as uow:
        return int(uow.connection.execute(select(func.count()).select_from(accounts)).scalar_one())


def _import(site: Installation, text: str) -> int:
    parsed = clients_csv.read_rows(io.StringIO(text))
    return clients_csv.import_clients(site.uow(), caller=site.admin, parsed=parsed, now=site.now)


def _cli(site: Installation, *args: str) -> Result:
    url = site.engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(app, list(args), env={"TENURE_DATABASE_URL": url})


def test_a_clean_file_imports_every_client_under_its_parent(site: Installation) -> None:
    channel = site.channel(name="North Sales", billing_ref="CH-NORTH")
    count = _import(
        site,
        HEADER
        + "Acme Ltd,ACME-1,residential,2026-01-01,,Jane Smith <jane@acme.example>,CH-NORTH\n"
        + "Beta LLP,,virtual,2027-01-01,2027-06-30,ops@beta.example,\n"
        + '"Comma, Inc",,,,,it@comma.example,\n',
    )
    assert count == 3
    with site.uow().reading() as uow:
        rows = {r.name: r for r in uow.connection.execute(select(accounts).where(accounts.c.kind == "client"))}
    acme, beta, comma = rows["Acme Ltd"], rows["Beta LLP"], rows["Comma, Inc"]
    assert (acme.parent_id, acme.billing_ref, acme.stage, acme.contact_name) == (
        channel.id,
        "ACME-1",
        Stage.ACTIVE.value,
        "Jane Smith",
    )
    assert (beta.parent_id, beta.client_type, beta.stage) == (site.operator_id, ClientType.VIRTUAL.value, "scheduled")
    assert comma.client_type == "residential" and comma.billing_ref.startswith("TEN-")


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_imported(site: Installation) -> None:
    site.client(name="Existing", billing_ref="TAKEN-1")
    site.channel(name="North Sales", billing_ref="CH-NORTH")
    before = _count(site)
    text = (
        HEADER
        + "Good Ltd,GOOD-1,,,,good@example.com,CH-NORTH\n"  # line 2: fine
        + ",NONAME,,,,x@example.com,\n"  # 3: no name
        + "Bad Date,,,2026-02-30,,x@example.com,\n"  # 4
        + "Bad Type,,office,,,x@example.com,\n"  # 5
        + "Bad Contact,,,,,not an email,\n"  # 6
        + "Taken,TAKEN-1,,,,x@example.com,\n"  # 7: ref in use
        + "Orphan,,,,,x@example.com,NOPE\n"  # 8: unknown parent
        + "Under Client,,,,,x@example.com,TAKEN-1\n"  # 9: a client cannot be a parent
        + "Twice,GOOD-1,,,,x@example.com,\n"  # 10: ref repeated in the file
        + "Backwards,,,2026-05-01,2026-04-01,x@example.com,\n"  # 11: end before start
    )
    with pytest.raises(clients_csv.ImportRejected) as rejected:
        _import(site, text)
    assert [e.line for e in rejected.value.errors] == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "TAKEN-1 is already in use" in str(rejected.value.errors[4])
    assert _count(site) == before


def test_a_header_without_the_columns_is_refused(site: Installation) -> None:
    with pytest.raises(clients_csv.ImportRejected) as rejected:
        _import(site, "name,email\nAcme,a@b.example\n")
    assert rejected.value.errors[0].line == 1


def test_export_writes_what_import_reads(site: Installation, tmp_path: Path) -> None:
    channel = site.channel(name="North Sales", billing_ref="CH-NORTH")
    site.client(channel.id, "Acme Ltd", billing_ref="ACME-1", email="jane@acme.example")
    gone = site.client(name="Gone Ltd", billing_ref="GONE-1")
    site.decommission(gone.id)
    exported = "".join(clients_csv.export_clients(site.uow(), caller=site.admin, include_inactive=False))
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows == [
        ["name", "billing_ref", "type", "start", "end", "contact", "parent_billing_ref", "network_ids"],
        [
            "Acme Ltd",
            "ACME-1",
            "residential",
            "2026-11-23",
            "2027-11-23",
            "Acme Ltd <jane@acme.example>",
            "CH-NORTH",
            "",
        ],
    ]
    # the same file, with new refs, imports cleanly
    again = exported.replace("ACME-1", "ACME-2").replace("Acme Ltd,", "Acme Two,")
    assert _import(site, again) == 1


def test_the_commands_import_and_export_through_the_cli(site: Installation, tmp_path: Path) -> None:
    site.channel(name="North Sales", billing_ref="CH-NORTH")
    good = tmp_path / "clients.csv"
    lines = [f"Client {i:03d},IMP-{i:03d},,2026-01-01,,c{i}@example.com,CH-NORTH" for i in range(250)]
    good.write_text(HEADER + "\n".join(lines) + "\n")
    result = _cli(site, "import", "clients", str(good))
    assert result.exit_code == 0, result.output
    assert "imported 250 clients" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "X,IMP-000,,,,x@example.com,\nY,,,tomorrow,,y@example.com,\n")
    result = _cli(site, "import", "clients", str(bad))
    assert result.exit_code == 2
    assert "line 2" in result.output and "line 3" in result.output
    exported = _cli(site, "export", "clients")
    assert exported.exit_code == 0
    out = exported.stdout.splitlines()
    assert out[0] == HEADER.strip() + ",network_ids" and len(out) == 251
    assert _kinds(site) == {Kind.CLIENT.value: 251}  # the 250 and the management client


def _kinds(site: Installation) -> dict[str, int]:
    with site.uow().reading() as uow:
        query = select(accounts.c.kind, func.count()).where(accounts.c.kind == "client").group_by(accounts.c.kind)
        return {kind: int(n) for kind, n in uow.connection.execute(query)}


def test_network_ids_go_out_and_come_back_as_services(site: Installation) -> None:
    """Issue 12 §1: each `kind:network_id` line becomes a service of that kind holding the id."""
    acme = site.client(name="Acme Ltd", billing_ref="ACME-1")
    for kind, network_id in ((LineKind.INTERNET, "acme-ppp1"), (LineKind.WIFI, "acme wifi; 2")):
        lines.add_service(
            site.uow(),
            numbers=E164Numbers(),
            caller=site.admin,
            account_id=acme.id,
            kind=kind,
            label=network_id,
            monthly_price="10.00",
            start_date=None,
            now=site.now,
            network_id=network_id,
        )
    exported = "".join(clients_csv.export_clients(site.uow(), caller=site.admin, include_inactive=False))
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[1][-1] == "internet:acme-ppp1\nwifi:acme wifi; 2"
    with pytest.raises(clients_csv.ImportRejected) as held:  # the ids are still held by Acme's services
        _import(site, exported.replace("ACME-1", "ACME-2"))
    assert "network id internet:acme-ppp1 is held by another service" in str(held.value.errors[0])
    moved = exported.replace("ACME-1", "ACME-2").replace("acme-ppp1", "acme-ppp2").replace("acme wifi", "wifi")
    assert _import(site, moved) == 1
    found = entitlements.service_entitlement(
        site.uow(),
        caller=site.admin,
        kind=LineKind.INTERNET,
        network_id="acme-ppp2",
        capability=Capability.INTERNET,
        now=site.now,
    )
    assert found.allowed and found.account_id != acme.id
    twice = HEADER.strip() + ",network_ids\nA,A-1,,,,a@example.com,,internet:x\nB,B-1,,,,b@example.com,,internet:x\n"
    with pytest.raises(clients_csv.ImportRejected) as rejected:
        _import(site, twice)
    assert "line 3: network id internet:x is also on line 2" in [str(e) for e in rejected.value.errors]
    for line in ("fibre:x", "phone_number:+442079460000", "internet:", "internet:tab\there"):
        bad = HEADER.strip() + f",network_ids\nA,A-1,,,,a@example.com,,{line}\n"
        with pytest.raises(clients_csv.ImportRejected):
            _import(site, bad)
    long_id = "x" * 253
    assert _import(site, HEADER.strip() + f",network_ids\nL,L-1,,,,l@example.com,,other:{long_id}\n") == 1
