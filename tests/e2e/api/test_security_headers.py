"""Every console page (and every other answer) sends the security headers; no page needs inline script.

The browser half (tests/e2e/browser/test_console.py) proves Chromium runs the
console under the policy without a single violation; this half checks the
headers and the markup in-process, page by page, signed in.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.api.conftest import World, console_sign_in

EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def _check_headers(response: Any, *, csp: bool = True) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.url, name)
    policy = response.headers.get("content-security-policy", "")
    if csp:
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, response.url
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_every_console_page_sends_the_headers_and_has_no_inline_script(world: World) -> None:
    _check_headers(world.client.get("/login"))
    console_sign_in(world)
    pages = [
        "/clients",
        "/clients?status=suspended",
        "/partners",
        f"/clients/{world.own_client.id}",
        f"/clients/{world.own_client.id}/edit",
        f"/clients/{world.own_client.id}/status/suspend",
        "/billing",
        "/offices",
        "/clients/new",
        "/clients/no-such-client",  # the error page
    ]
    for path in pages:
        response = world.client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        _check_headers(response)
        html = response.text
        assert not INLINE_SCRIPT.search(html), path
        assert not INLINE_STYLE.search(html), path
        assert not EVENT_HANDLER.search(html), path
        assert "javascript:" not in html, path


@pytest.mark.parametrize("path", ["/api/v1/accounts", "/static/console/tenure.js", "/healthz", "/nowhere"])
def test_other_answers_send_them_too(world: World, path: str) -> None:
    _check_headers(world.client.get(path))


def test_a_refusal_at_the_door_sends_them_too(world: World) -> None:
    _check_headers(world.client.get("/clients?q=%00"))


def test_the_swagger_page_keeps_the_other_headers_without_the_policy(world: World) -> None:
    response = world.client.get("/api/v1/docs")
    _check_headers(response, csp=False)
    assert "content-security-policy" not in response.headers
