"""The served process (`tenure serve`, uvicorn) at its edges: load-balancer headers and a chunked flood.

No browser: plain sockets and httpx against the real server on 127.0.0.1.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser.conftest import Server, start_server


@pytest.fixture(scope="module")
def trusting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Believes a load balancer on 127.0.0.1 (where the test connects from)."""
    args = ["--forwarded-allow-ips", "127.0.0.1"]
    with start_server(tmp_path_factory.mktemp("lb"), policy="connect", args=args) as running:
        yield running


def _cookie(server: Server, **headers: str) -> str:
    response = httpx.get(server.url + "/login", headers=headers)
    assert response.status_code == 200
    return response.headers["set-cookie"]


def test_the_session_cookie_is_secure_when_a_trusted_balancer_says_https(trusting: Server) -> None:
    assert "secure" in _cookie(trusting, **{"X-Forwarded-Proto": "https"}).lower()
    assert "secure" not in _cookie(trusting).lower()  # plain http straight to the server


def test_a_balancer_that_is_not_trusted_cannot_make_it_secure(tmp_path: Path) -> None:
    with start_server(tmp_path, policy="connect", args=["--forwarded-allow-ips", "192.0.2.1"]) as server:
        assert "secure" not in _cookie(server, **{"X-Forwarded-Proto": "https"}).lower()


def test_a_chunked_flood_is_cut_off_at_the_limit_unauthenticated(trusting: Server) -> None:
    """20 MB offered without Content-Length: the server answers 413 long before taking it all."""
    host, port = trusting.url.removeprefix("http://").split(":")
    chunk = b"x" * 65536
    offered, sent = 20 * 1024 * 1024, 0
    answer = b""
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        )
        try:
            while sent < offered:
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
                if select.select([sock], [], [], 0)[0]:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(10)
        while b"\r\n\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < offered
