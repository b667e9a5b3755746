"""Fixtures for the API key endpoints: the API world (two reseller trees and a caller of every role)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.api.conftest import TestClient, World, app_for, build_world
from tests.support import Installation


@pytest.fixture
def world(site: Installation) -> Iterator[World]:
    with TestClient(app_for(site)) as client:
        yield build_world(site, client)
