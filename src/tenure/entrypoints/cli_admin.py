"""Recovery without editing the database: `tenure user create|set-password` and `tenure policy reset`.

Shell access to the installation is trust (as for `tenure token`), so these
act as the operator (`system`, recorded as such in the audit trail) and need
no signed-in user: they are the way back in when every admin is gone, a
password is lost, or a custom policy matrix went wrong. Passwords are read
from a hidden prompt, or from standard input with `--password-stdin`, never
from the command line, where `ps` and shell history would keep them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from tenure.adapters.clock import SystemClock
from tenure.domain.access import Caller, Role
from tenure.domain.errors import DomainError
from tenure.entrypoints.context import configured_engine, unit_of_work
from tenure.services import auth, policy
from tenure.services.common import system_caller
from tenure.services.read_models import NotInitialised

OPERATOR = "operator"
user_app = typer.Typer(help="Create users and set passwords (recovery, scripting).", no_args_is_help=True)
policy_app = typer.Typer(help="Put a preset entitlement policy back.", no_args_is_help=True)
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="read the password from standard input")]


def _engine() -> Engine:
    return configured_engine()


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _system(engine: Engine) -> Caller:
    """The operator, as the worker acts; a database without `tenure init` is a clear error."""
    try:
        with unit_of_work(engine).reading() as uow:
            return system_caller(uow)
    except (NotInitialised, SQLAlchemyError):
        _fail("this database is not initialised; run `tenure init` first")
        raise


def _password(from_stdin: bool) -> str:
    """One line of standard input (without its line break), or a hidden prompt typed twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _checked_email(email: str) -> str:
    """The same email rule as `POST /users` (pydantic's EmailStr), before asking for a password."""
    try:
        return str(TypeAdapter(EmailStr).validate_python(email))
    except ValidationError:
        _fail(f"{email!r} is not a valid email address", 2)
        raise


@user_app.command("create")
def create_user(
    email: Annotated[str, typer.Option(help="the new user's email")],
    account: Annotated[str, typer.Option(help="`operator`, or an account id")],
    role: Annotated[Role, typer.Option(help="admin or viewer (operator, partners), portal (clients)")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user of any account, as the operator."""
    email = _checked_email(email)
    engine = _engine()
    password = _password(password_stdin)
    try:
        caller = _system(engine)
        account_id = caller.account_id if account == OPERATOR else account
        user = auth.create_user(
            unit_of_work(engine),
            caller=caller,
            email=email,
            password=password,
            account_id=account_id,
            role=role,
            now=SystemClock().now(),
        )
    except DomainError as error:
        _fail(error.detail, 2)
        raise
    typer.echo(f"created {user.email} ({user.role.value}) on account {user.account_id}")


@user_app.command("set-password")
def set_password(
    email: Annotated[str, typer.Option(help="an existing user's email")], password_stdin: PasswordStdin = False
) -> None:
    """Give a user a new password; its console sessions end and its API tokens are revoked."""
    password = _password(password_stdin)
    try:
        auth.set_password(unit_of_work(_engine()), email=email, password=password, now=SystemClock().now())
    except DomainError as error:
        _fail(error.detail, 2)
    typer.echo(f"password set for {email}; its sessions and tokens have ended")


@policy_app.command("reset")
def reset_policy(preset: Annotated[str, typer.Option(help="connect or metis")]) -> None:
    """Put a preset policy back in place of a custom matrix (the accounts it affects are notified)."""
    engine = _engine()
    try:
        policy.set_policy(
            unit_of_work(engine), caller=_system(engine), preset=preset, matrix=None, now=SystemClock().now()
        )
    except DomainError as error:
        _fail(error.detail, 2)
    typer.echo(f"policy reset to the {preset} preset")
