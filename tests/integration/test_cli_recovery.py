"""`tenure user create`, `tenure user set-password` and `tenure policy reset`: a way back in without SQL."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner, Result

from tenure.domain.access import Role
from tenure.domain.errors import Unauthorized
from tenure.domain.policy import CONNECT
from tenure.entrypoints.cli import app
from tenure.services import auth, policy
from tests.support import ADMIN_EMAIL, PASSWORD, Installation

NEW = "a password from the shell"


def _cli(site: Installation, command: str, stdin: str | None = None) -> Result:
    """`tenure <command>` against the test database; `stdin` is what is typed or piped in."""
    url = site.engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(app, command.split(), input=stdin, env={"TENURE_DATABASE_URL": url})


def _signs_in(site: Installation, email: str, password: str) -> bool:
    try:
        auth.sign_in(site.uow(), email=email, password=password, now=site.now)
    except Unauthorized:
        return False
    return True


def test_user_create_makes_an_operator_admin_from_standard_input(site: Installation) -> None:
    done = _cli(
        site,
        "user create --email Rescue@Operator.example --account operator --role admin --password-stdin",
        stdin=NEW + "\n",
    )
    assert done.exit_code == 0, done.output
    with site.uow().reading() as uow:
        user = uow.users.by_email("rescue@operator.example")
    assert user is not None and user.account_id == site.operator_id and user.role is Role.ADMIN
    assert _signs_in(site, "rescue@operator.example", NEW)


def test_user_create_prompts_twice_and_fits_the_role_to_the_account(site: Installation) -> None:
    client = site.client(name="Acme Ltd")
    prompted = _cli(
        site,
        f"user create --email it@acme.example --account {client.id} --role portal",
        stdin=f"{NEW}\n{NEW}\n",
    )
    assert prompted.exit_code == 0, prompted.output
    assert _signs_in(site, "it@acme.example", NEW)
    wrong_role = _cli(
        site,
        f"user create --email x@acme.example --account {client.id} --role admin --password-stdin",
        stdin=NEW,
    )
    assert wrong_role.exit_code == 2 and "portal role" in wrong_role.output
    short = _cli(
        site,
        "user create --email y@operator.example --account operator --role viewer --password-stdin",
        stdin="short\n",
    )
    assert short.exit_code == 2 and "at least 10" in short.output
    unknown = _cli(
        site,
        "user create --email z@operator.example --account 01NOSUCHACCOUNT --role viewer --password-stdin",
        stdin=NEW,
    )
    assert unknown.exit_code == 2 and "not found" in unknown.output
    not_an_email = _cli(site, "user create --email x@@y --account operator --role viewer --password-stdin", NEW)
    assert not_an_email.exit_code == 2 and "not a valid email" in not_an_email.output


def test_set_password_replaces_the_password_and_ends_tokens(site: Installation) -> None:
    token = auth.issue_token(site.uow(), email=ADMIN_EMAIL, password=PASSWORD, now=site.now).token
    done = _cli(site, f"user set-password --email {ADMIN_EMAIL} --password-stdin", stdin=NEW + "\n")
    assert done.exit_code == 0, done.output
    assert not _signs_in(site, ADMIN_EMAIL, PASSWORD)
    assert _signs_in(site, ADMIN_EMAIL, NEW)
    with pytest.raises(Unauthorized):
        auth.caller_for_token(site.uow(), token=token, now=site.now)
    nobody = _cli(site, "user set-password --email nobody@example.com --password-stdin", stdin=NEW)
    assert nobody.exit_code == 2 and "no user" in nobody.output


def test_policy_reset_puts_a_preset_back(site: Installation) -> None:
    matrix = CONNECT.as_matrix()
    matrix["internet"]["active"] = False
    policy.set_policy(site.uow(), caller=site.admin, preset=None, matrix=matrix, now=site.now)
    done = _cli(
        site,
        "policy reset --preset metis",
    )
    assert done.exit_code == 0, done.output
    assert policy.get_policy(site.uow(), caller=site.admin).name == "metis"
    bad = _cli(
        site,
        "policy reset --preset custom",
    )
    assert bad.exit_code == 2 and "preset must be one of" in bad.output
