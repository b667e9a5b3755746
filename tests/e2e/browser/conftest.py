"""Browser tests: the real server (`python -m tenure serve`) on 127.0.0.1, driven by Debian's Chromium.

One Chromium and one server per test module (each with its
own fresh SQLite database, prepared through `tenure.services.setup` and the
service layer). Each test gets a fresh browser context (no shared cookies) and
leaves a screenshot under tests/e2e/screenshots/ when it fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from sqlalchemy import Engine

from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.migrate import upgrade
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller
from tenure.services.setup import initialise

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
ADMIN = "admin@meridian.example"
PASSWORD = "correct horse battery"
REPO = Path(__file__).resolve().parents[3]


def _need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this
# thread while it is started, and any later test on the same worker that calls asyncio.run()
# would fail. Per module it stops before the next module's tests (one Chromium per module).
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    _need_chromium()
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    yield browser
    browser.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A running Tenure and direct access to its database for preparing data through the services."""

    url: str
    engine: Engine
    operator_id: str
    admin: Caller

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine)

    @property
    def now(self) -> datetime:
        """The server runs on the system clock; data is prepared on the same one."""
        return datetime.now(UTC)


@contextmanager
def start_server(
    tmp: Path, *, policy: str, args: Sequence[str] = (), env_extra: Mapping[str, str] | None = None
) -> Iterator[Server]:
    """`tenure serve` on a free port over a fresh SQLite database; `args` are added to the command."""
    database = tmp / "tenure.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    operator_id = initialise(
        UnitOfWork(engine),
        operator_name="Meridian",
        admin_email=ADMIN,
        admin_password=PASSWORD,
        policy=policy,
        now=datetime.now(UTC),
    )
    with UnitOfWork(engine).reading() as uow:
        user = uow.users.by_email(ADMIN)
        assert user is not None
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENURE_")}
    env.update(TENURE_DATABASE_URL=f"sqlite:///{database}", TENURE_ARGON2_PROFILE="cheapest", **(env_extra or {}))
    log = (tmp / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tenure", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker", *args],
        env=env,
        cwd=tmp,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, tmp / "server.log")
        yield Server(url, engine, operator_id, user.as_caller())
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        engine.dispose()


def _wait_until_up(url: str, process: subprocess.Popen[Any], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not start in 30 s:\n{log.read_text()}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.set_default_timeout(10_000)
    expect.set_options(timeout=10_000)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"failed-{request.node.name}.png"), full_page=True)
    context.close()


def sign_in(page: Page, server: Server, email: str = ADMIN, password: str = PASSWORD) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def wait_until(page: Page, expression: str, timeout: float = 10.0) -> None:
    """Poll a JavaScript expression until it is true.

    Not `page.wait_for_function`: its polling evaluates the predicate with `eval`
    inside the page, which the console's Content-Security-Policy rightly forbids.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:g} s: {expression}")
        page.wait_for_timeout(50)
