"""The benchmark's wrk scripts count every answer by status, and P1's script never sends a conflicting pair.

A tiny local server stands in for Tenure: it answers by path, and for P1's script it keeps each
account's suspended state and refuses (409) an out-of-order suspend or unsuspend, as Tenure does.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from bench.load import write_lines, wrk


class Answers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    suspended: ClassVar[set[str]] = set()
    lock = threading.Lock()

    def _answer(self, status: int) -> None:
        body = b'{"code": "x"}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(409 if self.path == "/refused" else 200)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        parts = self.path.strip("/").split("/")  # api, v1, accounts, <id>, <action>
        account, action = parts[3], parts[4]
        with self.lock:
            was = account in self.suspended
            if (action == "suspend") == was:
                self._answer(409)
                return
            (self.suspended.add if action == "suspend" else self.suspended.discard)(account)
        self._answer(200)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def base() -> Iterator[str]:
    if shutil.which("wrk") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("wrk is needed (apt-get install wrk)")
        pytest.skip("wrk is not installed")
    Answers.suspended = set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_every_answer_is_counted_by_status(base: str) -> None:
    paths = write_lines(["/fine", "/refused"])
    try:
        result = wrk(base, connections=2, threads=2, seconds=1, script="get.lua", args=[paths])
    finally:
        os.unlink(paths)
    assert set(result.statuses) == {200, 409}
    assert sum(result.statuses.values()) == result.requests
    assert result.non_2xx == result.statuses[409] > 0
    assert result.timeouts == 0
    assert "409: " in result.failures()


def test_p1_script_sends_each_connection_suspend_then_unsuspend_in_order(base: str) -> None:
    ids = write_lines([f"acct{i}" for i in range(64)])
    try:
        result = wrk(base, connections=4, threads=4, seconds=1, script="lifecycle.lua", args=[ids, "token", "4"])
    finally:
        os.unlink(ids)
    assert result.requests > 8
    assert result.non_2xx == 0, result.samples  # wrk's extra request() on thread 0 shifted nothing
