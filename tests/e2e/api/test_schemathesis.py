"""Property-based checks of the API against its own OpenAPI document (schemathesis).

Every operation of /api/v1/openapi.json gets a bounded number of generated
requests, valid and invalid, as the operator's admin. A 5xx, an undocumented
status code or content type, a missing documented header, or a body that does
not match the documented schema fails the test. SQLite is enough here: the
HTTP layer is what is under test, and both databases run the other API tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine

from tenure.adapters.db.engine import make_engine
from tenure.config import Settings
from tenure.domain.access import Role
from tenure.entrypoints.app import create_app
from tests.e2e.api.conftest import app_for, bearer, token_for
from tests.support import ADMIN_EMAIL, Installation, MutableClock

pytestmark = [pytest.mark.xdist_group("api-schemathesis"), pytest.mark.slow]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


class Target:
    """The app under test and a signed-in operator admin, with a few real accounts to hit."""

    def __init__(self, site: Installation) -> None:
        self.site = site
        self.app = app_for(site)
        reseller = site.reseller("Northwind")
        channel = site.channel(reseller.id, "North Sales")
        site.client(channel.id, "Acme Ltd")
        site.user(channel.id, Role.VIEWER, "viewer@northwind.example")
        self.token = token_for(site, ADMIN_EMAIL)

    def headers_for(self, case: Any) -> dict[str, str]:
        if case.method.upper() == "DELETE" and case.path.endswith("/auth/token"):
            return bearer(token_for(self.site, ADMIN_EMAIL))  # signing out must not sign the run out
        return bearer(self.token)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Target]:
    path = tmp_path_factory.mktemp("schemathesis") / "tenure.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield Target(Installation.start(engine, MutableClock()))
    engine.dispose()


# The document is read from an app over an empty in-memory database (serving it touches no
# table); the requests go to `target.app`, over a real, initialised one.
schema = schemathesis.openapi.from_asgi(
    "/api/v1/openapi.json", create_app(Settings(database_url="sqlite://"), engine=create_engine("sqlite://"))
)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_the_api_keeps_its_documented_promises(case: Any, target: Target) -> None:
    case.call_and_validate(headers=target.headers_for(case), checks=CHECKS, app=target.app)
