"""The API world of tests/e2e/api (two reseller trees and a caller per role), reused for webhooks."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from tests.e2e.api.conftest import World, app_for, build_world, module_engine, shared_world
from tests.support import Installation

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


__all__ = ["module_engine", "shared_world"]  # module-scoped world for tests that only add things


@pytest.fixture
def world(site: Installation) -> Iterator[World]:
    with TestClient(app_for(site)) as client:
        yield build_world(site, client)
