"""Schemathesis hooks for the run against a served instance (tests/e2e/api/test_schemathesis_served.py).

Loaded by `st run` through SCHEMATHESIS_HOOKS. Every request is made as the
operator's admin, signed in over HTTP like any client; `DELETE /auth/token`
gets a token of its own, so signing out does not sign the whole run out.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import schemathesis

BASE = os.environ.get("TENURE_ST_BASE", "")
EMAIL = os.environ.get("TENURE_ST_EMAIL", "")
PASSWORD = os.environ.get("TENURE_ST_PASSWORD", "")


def sign_in() -> str:
    answer = httpx.post(f"{BASE}/api/v1/auth/token", data={"username": EMAIL, "password": PASSWORD}, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


@schemathesis.auth()
class OperatorAdmin:
    """A bearer token for the operator's admin, fetched once and reused."""

    def get(self, case: Any, context: Any) -> str:
        return sign_in()

    def set(self, case: Any, data: str, context: Any) -> None:
        signs_out = case.method.upper() == "DELETE" and case.path.endswith("/auth/token")
        token = sign_in() if signs_out else data
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


USER_IDS = [u for u in os.environ.get("TENURE_ST_USER_IDS", "").split(",") if u]


@schemathesis.hook
def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    """`DELETE /users/{user_id}` aims at real users, the operator's only admin first among them."""
    operation = context.operation
    if path_parameters and USER_IDS and operation is not None and operation.path.endswith("/users/{user_id}"):
        drawn = str(path_parameters.get("user_id", ""))
        path_parameters["user_id"] = USER_IDS[len(drawn) % len(USER_IDS)]
    return path_parameters
