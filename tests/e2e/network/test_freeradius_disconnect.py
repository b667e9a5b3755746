"""Issue 12 §4, the live-session rows, end to end: a session opened through real FreeRADIUS is cut by Tenure.

    radclient (NAS) ─ Accounting-Request ─> FreeRADIUS ─ rlm_rest ─> tenure serve  (session kept)
    the API suspends ─> radius.disconnect queued ─> `tenure worker --once` ─ Disconnect-Request ─> NAS double

Every piece is the real one an operator runs: `make-config`'s directory, `freeradius -X`,
`tenure serve`, `tenure nas add`, `tenure worker --once` (with `--as-of` to stand ten
minutes later without waiting them). The NAS double (pyrad, `tests/nas_double.py`) answers
ACK, NAK or nothing as each test chooses; it keeps every request, so each test counts only
its own sessions' Disconnect-Requests. Without Debian's freeradius, freeradius-rest and
freeradius-utils these tests skip, except under CI=true where that is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pyrad.packet import DisconnectRequest

from tests.e2e.network.radius_support import (
    PASSWORD,
    FreeRadius,
    Tenure,
    add_internet,
    admin_api,
    config_dir,
    create_account,
    freeradius,
    ok,
    radclient,
    radius_key,
    require_packages,
    started_tenure,
    tenure_cli,
)
from tests.nas_double import NasDouble, Received

pytestmark = [pytest.mark.xdist_group("freeradius"), pytest.mark.slow]

NAS_SECRET = "coa-s3cret"
USERS = {"dana-ppp1": PASSWORD}  # in FreeRADIUS's users file: she dials again after the cut


@pytest.fixture(scope="module", autouse=True)
def _debian_packages() -> None:
    require_packages()


@pytest.fixture(scope="module")
def tenure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenure]:
    with started_tenure(tmp_path_factory.mktemp("tenure")) as server:
        yield server


@pytest.fixture(scope="module")
def nas(tenure: Tenure) -> Iterator[NasDouble]:
    """The NAS double, registered with the one command an operator runs."""
    with NasDouble(secret=NAS_SECRET) as double:
        added = tenure_cli(
            tenure.env, "nas", "add", "--name", "bng1", "--ip", "127.0.0.1", "--secret", NAS_SECRET,
            "--coa-port", str(double.port),
        )  # fmt: skip
        assert "added NAS bng1" in added
        yield double


@pytest.fixture(scope="module")
def radius(tenure: Tenure) -> Iterator[FreeRadius]:
    key = radius_key(tenure.env)
    with config_dir(USERS) as dest, freeradius(dest, tenure_url=tenure.url, tenure_key=key) as server:
        yield server


@pytest.fixture(scope="module")
def api(tenure: Tenure) -> Iterator[httpx.Client]:
    with admin_api(tenure) as client:
        yield client


@pytest.fixture
def ack(nas: NasDouble) -> NasDouble:
    nas.answer = "ack"
    return nas


def _channel(api: httpx.Client, name: str) -> str:
    return create_account(api, "channel", ok(api.get("/me"))["account"]["id"], name)


def _client(api: httpx.Client, channel: str, name: str, *logins: str) -> str:
    """A client below `channel` with one internet service per login (its RADIUS User-Name)."""
    client = create_account(api, "client", channel, name)
    for login in logins:
        add_internet(api, client, login)
    return client


def _start(radius: FreeRadius, session_id: str, user: str) -> None:
    """The NAS reports a session up: Accounting-Request Start through FreeRADIUS, answered once Tenure kept it."""
    record = {
        "Acct-Status-Type": "Start",
        "Acct-Session-Id": session_id,
        "User-Name": user,
        "NAS-IP-Address": "127.0.0.1",
        "Framed-IP-Address": "10.0.0.7",
    }
    reply = radclient(radius, "acct", record)
    assert reply.code == "Accounting-Response", reply.output


def _sessions(api: httpx.Client, *session_ids: str) -> dict[str, dict[str, Any]]:
    """Tenure's view of these sessions, by Acct-Session-Id."""
    items: list[dict[str, Any]] = ok(api.get("/radius/sessions", params={"limit": 200}))["items"]
    return {item["acct_session_id"]: item for item in items if item["acct_session_id"] in session_ids}


def _states(api: httpx.Client, *session_ids: str) -> dict[str, str]:
    return {sid: session["state"] for sid, session in _sessions(api, *session_ids).items()}


def _worker(tenure: Tenure, *, later: timedelta = timedelta(0)) -> None:
    """One pass of the real worker; `later` stands it that far in the future (retries come due)."""
    as_of = (datetime.now(UTC) + later).isoformat()
    tenure_cli(tenure.env, "worker", "--once", "--as-of", as_of)


def _received(nas: NasDouble, *session_ids: str) -> list[Received]:
    return [r for r in nas.received() if r.acct_session_id in session_ids]


def test_a_session_opened_through_freeradius_is_cut_when_its_client_is_suspended(
    tenure: Tenure, radius: FreeRadius, api: httpx.Client, ack: NasDouble
) -> None:
    client = _client(api, _channel(api, "Cut Sales"), "Dana Ltd", "dana-ppp1")
    login = {"User-Name": "dana-ppp1", "User-Password": PASSWORD, "NAS-IP-Address": "127.0.0.1"}
    assert radclient(radius, "auth", login).code == "Access-Accept"
    _start(radius, "bng1-cut-1", "dana-ppp1")
    assert _states(api, "bng1-cut-1") == {"bng1-cut-1": "open"}

    ok(api.post(f"/accounts/{client}/suspend", json={"reason": "non_payment"}))
    assert _states(api, "bng1-cut-1") == {"bng1-cut-1": "disconnecting"}
    assert _received(ack, "bng1-cut-1") == []  # queued with the suspension; the worker sends it
    _worker(tenure)

    received = _received(ack, "bng1-cut-1")
    assert [(r.code, r.user_name, r.authentic) for r in received] == [(DisconnectRequest, "dana-ppp1", True)]
    assert received[0].event_timestamp is not None
    assert _states(api, "bng1-cut-1") == {"bng1-cut-1": "disconnected"}
    _worker(tenure, later=timedelta(minutes=30))
    assert len(_received(ack, "bng1-cut-1")) == 1  # done: never sent again
    again = radclient(radius, "auth", login)  # her equipment dials again: no internet while suspended
    assert again.code == "Access-Reject", again.output
    assert again.attributes["Reply-Message"].startswith("suspended: non-payment hold on client Dana Ltd")


def test_a_suspended_channel_cuts_each_open_session_below_it_once(
    tenure: Tenure, radius: FreeRadius, api: httpx.Client, ack: NasDouble
) -> None:
    channel = _channel(api, "East Sales")
    _client(api, channel, "Elm Ltd", "elm-ppp1", "elm-ppp2")
    _client(api, channel, "Fir Ltd", "fir-ppp1")
    _client(api, _channel(api, "West Sales"), "Gum Ltd", "gum-ppp1")
    sessions = {"E-1": "elm-ppp1", "E-2": "elm-ppp2", "F-1": "fir-ppp1", "G-1": "gum-ppp1"}
    for session_id, user in sessions.items():
        _start(radius, session_id, user)

    ok(api.post(f"/accounts/{channel}/suspend", json={"reason": "fraud"}))
    _worker(tenure)

    cut = _received(ack, *sessions)
    assert sorted(r.acct_session_id or "" for r in cut) == ["E-1", "E-2", "F-1"]
    assert {(r.acct_session_id, r.user_name) for r in cut} == {
        ("E-1", "elm-ppp1"),
        ("E-2", "elm-ppp2"),
        ("F-1", "fir-ppp1"),
    }
    states = _states(api, *sessions)
    assert states == {"E-1": "disconnected", "E-2": "disconnected", "F-1": "disconnected", "G-1": "open"}


def test_a_nak_is_recorded_and_not_retried(
    tenure: Tenure, radius: FreeRadius, api: httpx.Client, nas: NasDouble
) -> None:
    client = _client(api, _channel(api, "Nak Sales"), "Hazel Ltd", "hazel-ppp1")
    _start(radius, "H-1", "hazel-ppp1")
    nas.answer, nas.error_cause = "nak", 503
    ok(api.post(f"/accounts/{client}/suspend", json={"reason": "non_payment"}))
    _worker(tenure)
    _worker(tenure, later=timedelta(minutes=30))

    assert len(_received(nas, "H-1")) == 1
    session = _sessions(api, "H-1")["H-1"]
    assert session["state"] == "refused"
    assert session["disconnect_error"] == "Disconnect-NAK: Error-Cause 503 (Session Context Not Found)"


def test_a_silent_nas_is_retried_then_the_session_is_failed(
    tenure: Tenure, radius: FreeRadius, api: httpx.Client, nas: NasDouble
) -> None:
    client = _client(api, _channel(api, "Quiet Sales"), "Ivy Ltd", "ivy-ppp1")
    _start(radius, "I-1", "ivy-ppp1")
    nas.answer = "silent"
    ok(api.post(f"/accounts/{client}/suspend", json={"reason": "non_payment"}))
    _worker(tenure)
    first = len(_received(nas, "I-1"))
    assert first >= 1
    session = _sessions(api, "I-1")["I-1"]
    assert session["state"] == "disconnecting"  # waiting to try again
    assert "no answer from 127.0.0.1" in session["disconnect_error"]

    _worker(tenure, later=timedelta(minutes=10, seconds=30))  # past the window: one last try, then failed
    retried = len(_received(nas, "I-1"))
    assert retried > first
    _worker(tenure, later=timedelta(hours=2))
    assert len(_received(nas, "I-1")) == retried  # no endless retry
    failed = ok(api.get("/radius/sessions", params={"state": "failed"}))["items"]
    assert [(s["acct_session_id"], s["state"]) for s in failed] == [("I-1", "failed")]
    assert 'tenure_radius_sessions{state="failed"} 1.0' in httpx.get(f"{tenure.url}/metrics").text
