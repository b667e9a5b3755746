"""`tenure nas add|list|remove` (operations.md): one command registers a NAS; its secret is never printed."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner, Result

from tenure.adapters.db.tables import nas
from tenure.adapters.secret_box import SecretBox
from tenure.entrypoints.cli import app
from tests.support import Installation


def _cli(site: Installation, *args: str) -> Result:
    url = site.engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(app, list(args), env={"TENURE_DATABASE_URL": url, "TENURE_SECRET_KEY": ""})


def test_nas_are_added_listed_and_removed_from_the_command_line(site: Installation) -> None:
    added = _cli(
        site, "nas", "add", "--ip", "127.0.0.1", "--secret", "s3cret-value", "--coa-port", "3799", "--name", "bng1"
    )
    assert added.exit_code == 0, added.output
    assert "bng1" in added.output and "s3cret-value" not in added.output
    again = _cli(site, "nas", "add", "--ip", "127.0.0.1", "--secret", "x", "--name", "bng2")
    assert again.exit_code == 2 and "127.0.0.1" in again.output
    bad = _cli(site, "nas", "add", "--ip", "localhost", "--secret", "x", "--name", "bng3")
    assert bad.exit_code == 2 and "IPv4 or IPv6" in bad.output
    listed = _cli(site, "nas", "list")
    assert listed.exit_code == 0 and listed.output.split("\t")[:3] == ["bng1", "127.0.0.1", "3799"]
    assert "s3cret-value" not in listed.output
    with site.uow().reading() as uow:
        sealed = uow.connection.execute(select(nas.c.secret_encrypted)).scalar_one()
        key = uow.site.secret_key
    assert "s3cret-value" not in sealed and SecretBox(key).open(sealed) == "s3cret-value"
    removed = _cli(site, "nas", "remove", "--name", "bng1")
    assert removed.exit_code == 0 and _cli(site, "nas", "list").output == ""
    assert _cli(site, "nas", "remove", "--name", "bng1").exit_code == 2
