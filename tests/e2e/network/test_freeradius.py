"""Issue 12 §4 through real FreeRADIUS: `make-config`'s directory, `freeradius -X`, `radclient` as the NAS.

Tenure is the real server (`tenure serve --no-worker`, SQLite), seeded over its
API; FreeRADIUS reaches it only through the environment the operations spec
names. Passwords live in FreeRADIUS's users file; Tenure decides entitlement.
Without Debian's freeradius, freeradius-rest and freeradius-utils these tests
skip, except under CI=true where that is a failure.
"""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.network.radius_support import (
    MAKE_CONFIG,
    PASSWORD,
    FreeRadius,
    Reply,
    Tenure,
    add_internet,
    admin_api,
    class_text,
    config_dir,
    create_account,
    free_tcp_port,
    freeradius,
    ok,
    radclient,
    radius_key,
    require_packages,
    started_tenure,
    stop,
    tenure_server,
)

pytestmark = [pytest.mark.xdist_group("freeradius"), pytest.mark.slow]

# name -> password in FreeRADIUS's users file; which of them Tenure knows is up to each test.
USERS = {
    "acme-ppp1": PASSWORD,  # active client
    "bolt-ppp1": PASSWORD,  # client suspended for non-payment
    "crane-ppp1": PASSWORD,  # client decommissioned
    "ghost-ppp1": PASSWORD,  # known to FreeRADIUS, unknown to Tenure
}
REST_CALL = re.compile(r"\brest[.:]")
NAS = {"NAS-IP-Address": "127.0.0.1", "Called-Station-Id": "00-11-22-33-44-55:bng1"}


@pytest.fixture(scope="module", autouse=True)
def _debian_packages() -> None:
    require_packages()


@pytest.fixture(scope="module")
def raddb() -> Iterator[Path]:
    with config_dir(USERS) as dest:
        yield dest


@pytest.fixture(scope="module")
def tenure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenure]:
    with started_tenure(tmp_path_factory.mktemp("tenure")) as server:
        yield server


@pytest.fixture(scope="module")
def radius(raddb: Path, tenure: Tenure) -> Iterator[FreeRadius]:
    with freeradius(raddb, tenure_url=tenure.url, tenure_key=radius_key(tenure.env)) as server:
        yield server


@pytest.fixture(scope="module")
def api(tenure: Tenure) -> Iterator[httpx.Client]:
    with admin_api(tenure) as client:
        yield client


@pytest.fixture(scope="module")
def clients(api: httpx.Client) -> dict[str, str]:
    """Three clients with an internet service each, by RADIUS User-Name: active, suspended, decommissioned."""
    operator = ok(api.get("/me"))["account"]["id"]
    reseller = create_account(api, "reseller", operator, "Northwind")
    channel = create_account(api, "channel", reseller, "North Sales")
    ids = {}
    for name, login in (("Acme Ltd", "acme-ppp1"), ("Bolt plc", "bolt-ppp1"), ("Crane & Co", "crane-ppp1")):
        ids[login] = create_account(api, "client", channel, name)
        add_internet(api, ids[login], login)
    ok(api.post(f"/accounts/{ids['bolt-ppp1']}/suspend", json={"reason": "non_payment"}))
    ok(api.post(f"/accounts/{ids['crane-ppp1']}/decommission", json={}))
    return ids


def _login(server: FreeRadius, user: str, password: str = PASSWORD) -> Reply:
    return radclient(server, "auth", {"User-Name": user, "User-Password": password, **NAS})


def _internet_because(api: httpx.Client, account_id: str) -> str:
    because: str = ok(api.get(f"/accounts/{account_id}/entitlements"))["capabilities"]["internet"]["because"]
    return because


# -- Tenure answers -------------------------------------------------------------
def test_an_active_client_with_the_right_password_is_accepted_with_its_account(
    radius: FreeRadius, clients: dict[str, str]
) -> None:
    reply = _login(radius, "acme-ppp1")
    assert reply.code == "Access-Accept", reply.output
    assert class_text(reply.attributes["Class"]) == f"tenure:{clients['acme-ppp1']}"
    assert reply.attributes.get("Reply-Message")


def test_a_client_suspended_under_connect_is_rejected_with_tenures_reason(
    radius: FreeRadius, clients: dict[str, str], api: httpx.Client
) -> None:
    reply = _login(radius, "bolt-ppp1")
    assert reply.code == "Access-Reject", reply.output
    assert reply.attributes["Reply-Message"] == _internet_because(api, clients["bolt-ppp1"])


def test_a_client_suspended_under_metis_keeps_internet(
    radius: FreeRadius, clients: dict[str, str], api: httpx.Client
) -> None:
    ok(api.put("/policy", json={"preset": "metis"}))
    try:
        reply = _login(radius, "bolt-ppp1")
    finally:
        ok(api.put("/policy", json={"preset": "connect"}))
    assert reply.code == "Access-Accept", reply.output
    assert class_text(reply.attributes["Class"]) == f"tenure:{clients['bolt-ppp1']}"


def test_a_decommissioned_client_is_rejected(radius: FreeRadius, clients: dict[str, str]) -> None:
    reply = _login(radius, "crane-ppp1")
    assert reply.code == "Access-Reject", reply.output


def test_a_user_tenure_does_not_know_is_rejected(radius: FreeRadius, clients: dict[str, str]) -> None:
    reply = _login(radius, "ghost-ppp1")
    assert reply.code == "Access-Reject", reply.output
    assert reply.attributes["Reply-Message"] == "Unknown subscriber"


def test_a_wrong_key_counts_as_tenure_unavailable_not_as_a_denial(raddb: Path, tenure: Tenure) -> None:
    with freeradius(raddb, tenure_url=tenure.url, tenure_key="tnk_not-a-key") as server:
        reply = _login(server, "acme-ppp1")
    assert reply.code == "Access-Reject", reply.output
    assert reply.attributes["Reply-Message"] == "Entitlement check unavailable"


def test_accounting_start_and_stop_reach_tenure(radius: FreeRadius, clients: dict[str, str], api: httpx.Client) -> None:
    record = {"User-Name": "acme-ppp1", "Acct-Session-Id": "bng1-0001", "NAS-IP-Address": "127.0.0.1"}
    started = radclient(radius, "acct", {**record, "Acct-Status-Type": "Start", "Framed-IP-Address": "10.0.0.7"})
    assert started.code == "Accounting-Response", started.output
    session = _session(api, "bng1-0001")
    assert session is not None and _is_open(session)
    assert {"acme-ppp1", "10.0.0.7", "127.0.0.1"} <= {str(v) for v in session.values()}

    interim = radclient(radius, "acct", {**record, "Acct-Status-Type": "Interim-Update"})
    assert interim.code == "Accounting-Response", interim.output
    stopped = radclient(radius, "acct", {**record, "Acct-Status-Type": "Stop"})
    assert stopped.code == "Accounting-Response", stopped.output
    closed = _session(api, "bng1-0001")
    assert closed is None or not _is_open(closed)


def _session(api: httpx.Client, acct_session_id: str) -> dict[str, Any] | None:
    items: list[dict[str, Any]] = ok(api.get("/radius/sessions"))["items"]
    return next((item for item in items if acct_session_id in item.values()), None)


def _is_open(session: dict[str, Any]) -> bool:
    return session.get("state") == "open"


# -- FreeRADIUS on its own --------------------------------------------------------
def test_a_wrong_password_is_rejected_by_freeradius_without_asking_tenure(raddb: Path) -> None:
    with freeradius(raddb, tenure_url=_dead_tenure(), tenure_key="unused") as server:
        reply = _login(server, "acme-ppp1", "wrong-password")
        log = server.output()
    assert reply.code == "Access-Reject", reply.output
    assert "Reply-Message" not in reply.attributes  # Tenure's reasons are for Tenure's refusals only
    assert not _asked_tenure(log)


def test_a_user_freeradius_has_no_password_for_is_rejected_without_asking_tenure(raddb: Path) -> None:
    with freeradius(raddb, tenure_url=_dead_tenure(), tenure_key="unused") as server:
        reply = _login(server, "nobody-ppp9")
        log = server.output()
    assert reply.code == "Access-Reject", reply.output
    assert reply.attributes["Reply-Message"] == "Unknown subscriber"
    assert not _asked_tenure(log)


def test_with_tenure_stopped_freeradius_fails_closed(raddb: Path) -> None:
    with freeradius(raddb, tenure_url=_dead_tenure(), tenure_key="unused") as server:
        login = _login(server, "acme-ppp1")
        accounting = radclient(
            server, "acct", {"User-Name": "acme-ppp1", "Acct-Session-Id": "s-1", "Acct-Status-Type": "Start"}
        )
    assert login.code == "Access-Reject", login.output
    assert login.attributes["Reply-Message"] == "Entitlement check unavailable"
    assert accounting.code is None  # no Accounting-Response: the NAS keeps the record and sends it again


def test_with_tenure_hanging_freeradius_fails_closed_after_its_timeout(raddb: Path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)  # accepts connections, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with freeradius(raddb, tenure_url=url, tenure_key="unused") as server:
            reply = _login(server, "acme-ppp1")
    assert reply.code == "Access-Reject", reply.output
    assert reply.attributes["Reply-Message"] == "Entitlement check unavailable"


def test_with_tenure_stopped_fail_mode_open_accepts(raddb: Path) -> None:
    fail_open = {"TENURE_FAIL_MODE": "open"}
    with freeradius(raddb, tenure_url=_dead_tenure(), tenure_key="unused", extra_env=fail_open) as server:
        reply = _login(server, "acme-ppp1")
        wrong = _login(server, "acme-ppp1", "wrong-password")
    assert reply.code == "Access-Accept", reply.output
    assert wrong.code == "Access-Reject", wrong.output  # fail open never skips the password


def test_only_the_nas_named_by_radius_client_ip_is_answered(raddb: Path) -> None:
    elsewhere = {"RADIUS_CLIENT_IP": "192.0.2.10"}
    with freeradius(raddb, tenure_url=_dead_tenure(), tenure_key="unused", extra_env=elsewhere) as server:
        ignored = radclient(server, "auth", {"User-Name": "nobody-ppp9", "User-Password": PASSWORD}, timeout=2)
        log = server.output()
    loopback = {"RADIUS_CLIENT_IP": "127.0.0.0/8"}
    with freeradius(raddb, tenure_url=_dead_tenure(), tenure_key="unused", extra_env=loopback) as server:
        answered = radclient(server, "auth", {"User-Name": "nobody-ppp9", "User-Password": PASSWORD})
    assert ignored.code is None
    assert "unknown client 127.0.0.1" in log
    assert answered.code == "Access-Reject", answered.output


def test_debians_own_client_secret_is_not_accepted(raddb: Path) -> None:
    """The machine's clients.conf (localhost, testing123) is not a client of Tenure's site.

    Its listeners answer 127.0.0.1 with RADIUS_SECRET, so radclient, holding Debian's
    default secret, cannot verify the answer and reports none.
    """
    with freeradius(raddb, tenure_url=_dead_tenure(), tenure_key="unused") as server:
        server.secret = "testing123"
        reply = radclient(server, "auth", {"User-Name": "nobody-ppp9", "User-Password": PASSWORD}, timeout=2)
    assert reply.code is None, reply.output


def test_make_config_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "radiusd.conf").write_text("# an operator's own\n")
    done = subprocess.run([str(MAKE_CONFIG), str(tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "not empty" in done.stderr
    assert (tmp_path / "radiusd.conf").read_text() == "# an operator's own\n"


def test_make_config_enables_only_tenures_site_and_module(raddb: Path) -> None:
    assert sorted(p.name for p in (raddb / "sites-enabled").iterdir()) == ["tenure"]
    assert (raddb / "mods-enabled" / "rest").resolve() == (raddb / "mods-available" / "rest").resolve()
    assert not (raddb / "mods-enabled" / "eap").exists()


# -- Tenure stops, then comes back ----------------------------------------------------
def test_service_resumes_when_tenure_comes_back(raddb: Path, tmp_path: Path) -> None:
    with started_tenure(tmp_path) as tenure:
        api = admin_api(tenure)
        client = create_account(api, "client", ok(api.get("/me"))["account"]["id"], "Acme Ltd")
        service = {"kind": "internet", "label": "Fibre 100", "monthly_price": "30.00", "network_id": "acme-ppp1"}
        ok(api.post(f"/accounts/{client}/services", json=service), 201)
        api.close()
        port = int(tenure.url.rsplit(":", 1)[1])
        with freeradius(raddb, tenure_url=tenure.url, tenure_key=radius_key(tenure.env)) as server:
            assert _login(server, "acme-ppp1").code == "Access-Accept"
            stop(tenure.process)
            assert _login(server, "acme-ppp1").code == "Access-Reject"
            with tenure_server(tenure.env, tmp_path, port=port):
                assert _login(server, "acme-ppp1").code == "Access-Accept"


def _dead_tenure() -> str:
    """The URL of a Tenure that is not running: a free port nobody listens on."""
    return f"http://127.0.0.1:{free_tcp_port()}"


def _asked_tenure(log: str) -> bool:
    """Whether FreeRADIUS's debug output shows a request calling the rest module."""
    return any(REST_CALL.search(line) for line in log.splitlines() if line.startswith("("))
