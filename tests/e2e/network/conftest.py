"""One real network per database and policy: Tenure, two Kamailios (fail closed, fail open), SIPp.

    subscriber (SIPp UAC) ─┐                      ┌─> carrier UAS (SIPp)   outbound, if allowed
                           ├─> Kamailio ─ asks ─> Tenure (tenure serve)
    carrier (SIPp UAC,    ─┘   (closed | open)    └─> PBX UAS (SIPp)       inbound, if allowed
      from CARRIER_PORT)

Built once per module and parameter (the daemons take seconds to start, a call
a fraction of one); every test makes its own channel, client and number.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tenure.adapters.db.engine import make_engine
from tests.e2e.network.support import (
    ADMIN,
    PASSWORD,
    Answer,
    Kamailio,
    Ports,
    Tenure,
    Uas,
    call,
    equipment_key,
    free_port,
    require_daemons,
    tenure_cli,
)

PG_ENV = "TENURE_TEST_POSTGRES_URL"
SETUPS = ["sqlite-connect", "sqlite-metis", "postgresql-connect", "postgresql-metis"]


class Network:
    """Everything one parameter's tests share, and short ways to act on it."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder = folder
        self.database_url = database_url
        self.tenure = Tenure(database_url, folder / "tenure.log")
        self.http = httpx.Client(timeout=30)
        self.ports = Ports(carrier=free_port(), carrier_uas=free_port(), pbx_uas=free_port())
        self.daemons: list[Uas | Kamailio] = []
        self.kamailio: dict[str, Kamailio] = {}
        self.key = ""
        self.operator_id = ""
        self._numbers = count(1)

    def start(self) -> None:
        """Start everything; `close` stops whatever did start, even if this fails half-way."""
        self.tenure.start()
        self.key = equipment_key(self.database_url)
        self.http.base_url = httpx.URL(self.tenure.url + "/api/v1")
        login = self.http.post("/auth/token", data={"username": ADMIN, "password": PASSWORD})
        assert login.status_code == 200, login.text
        self.http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        self.operator_id = self._operator_id()
        self.daemons.append(Uas(self.folder / "carrier", self.ports.carrier_uas))
        self.daemons.append(Uas(self.folder / "pbx", self.ports.pbx_uas))
        for mode in ("closed", "open"):
            folder = self.folder / f"kamailio-{mode}"
            kamailio = Kamailio(folder, tenure_url=self.tenure.url, key=self.key, ports=self.ports, fail_mode=mode)
            self.daemons.append(kamailio)
            self.kamailio[mode] = kamailio
        self.warm_up()

    def warm_up(self) -> None:
        """Ask the lookup a few times before a call does: a started Tenure's first answers open its
        connection pools and prepare its statements, which on a loaded CI machine once took longer
        than Kamailio's 500 ms budget (a 503 on the first call of a module)."""
        lookup = f"{self.tenure.url}/api/v1/entitlements/numbers/%2B442079400000"
        for _ in range(4):
            headers = {"Authorization": f"Bearer {self.key}"}
            answer = httpx.get(lookup, params={"capability": "outbound_calls"}, headers=headers, timeout=30)
            assert answer.status_code == 404, answer.text  # no such number: the lookup itself answered

    def _operator_id(self) -> str:
        items = self.api("GET", "/accounts", params={"kind": "operator"})["items"]
        return str(items[0]["id"])

    def close(self) -> None:
        for daemon in self.daemons:
            daemon.stop()
        self.tenure.stop()
        self.http.close()

    # -- Tenure's API, as the admin ----------------------------------------
    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, path, **kwargs)
        assert answer.status_code in (200, 201, 204), f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def channel(self, name: str) -> str:
        body = {"kind": "channel", "parent_id": self.operator_id, "name": name, "main_contact": _contact(name)}
        return str(self.api("POST", "/accounts", json=body)["id"])

    def client_with_number(self, name: str, channel_id: str | None = None) -> tuple[str, str, str]:
        """A new active client (in a new channel unless given) holding a new number: (id, number, service id)."""
        parent = channel_id or self.channel(f"{name} Sales")
        body = {"kind": "client", "parent_id": parent, "name": name, "main_contact": _contact(name)}
        client_id = str(self.api("POST", "/accounts", json=body)["id"])
        number = f"+4420794{next(self._numbers):05d}"
        service = {"kind": "phone_number", "label": number, "monthly_price": "5.00"}
        service_id = str(self.api("POST", f"/accounts/{client_id}/services", json=service)["id"])
        return client_id, number, service_id

    def because(self, number: str, capability: str) -> str:
        """Tenure's own reason for a number, asked with the equipment key, to compare with X-Tenure-Reason."""
        answer = httpx.get(
            f"{self.tenure.url}/api/v1/entitlements/numbers/{number.replace('+', '%2B')}",
            params={"capability": capability},
            headers={"Authorization": f"Bearer {self.key}"},
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["because"])

    # -- calls ---------------------------------------------------------------
    def outbound(self, number: str, *, mode: str = "closed", pai: str | None = None) -> Answer:
        """A subscriber calls out: `number` in From, or in P-Asserted-Identity when `pai` is given."""
        return call(self.kamailio[mode], self.folder / "calls", caller=number, called="+442079499990", pai=pai)

    def inbound(self, number: str, *, mode: str = "closed") -> Answer:
        """The carrier calls `number` (the Request-URI), from CARRIER_IP:CARRIER_PORT."""
        return call(
            self.kamailio[mode],
            self.folder / "calls",
            caller="+442079499991",
            called=number,
            source_port=self.ports.carrier,
        )


def _contact(name: str) -> dict[str, str]:
    return {"name": name, "email": f"{name.lower().replace(' ', '.')}@example.com"}


def _database(kind: str, folder: Path, policy: str) -> Generator[str, None, None]:
    """A database for one network: a SQLite file, or a PostgreSQL database made and dropped here."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'tenure.db'}"
        return
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        message = f"PostgreSQL half not run: set {PG_ENV} (scripts/test does when PostgreSQL is installed)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    name = f"tenure_network_{os.getpid()}_{policy}"
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module", params=SETUPS)
def network_setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    require_daemons()
    kind, policy = str(request.param).split("-")
    folder = tmp_path_factory.mktemp(f"network-{request.param}")
    databases = _database(kind, folder, policy)
    url = next(databases)
    tenure_cli(
        url,
        "init",
        "--operator-name",
        "Meridian",
        "--admin-email",
        ADMIN,
        "--admin-password",
        PASSWORD,
        "--policy",
        policy,
    )
    network = Network(folder, url)
    try:
        network.start()
        yield network
    finally:
        network.close()
        databases.close()


@pytest.fixture
def network(network_setup: Network) -> Network:
    """The module's network, with Tenure running again if a test stopped it."""
    if not network_setup.tenure.running:
        network_setup.tenure.start()
        network_setup.warm_up()
    return network_setup
