"""P8: Access-Requests through real FreeRADIUS that asks Tenure, against the same FreeRADIUS that does not.

Ours: FreeRADIUS from `integrations/freeradius/make-config`, run as in
production (`freeradius -f`, its thread pool), checks each subscriber's
password in its users file (one line per login) and asks `tenure serve` (two
worker processes, PostgreSQL) `POST /api/v1/radius/authorize` for every one
of 100,000 internet services, in turn. Bare: a second directory from the same
`make-config`, the same users file, whose site stops after the password
(no Tenure), under exactly the same load, right before ours.

The load is a closed loop of 16 NAS sockets (pyrad builds and checks the
packets), one request outstanding per socket, like wrk's connections: a
socket sends its next Access-Request when the last one is answered or has
waited 5 s. A failure is no answer within 5 s, or an answer other than
Access-Accept (every login is active). The loop runs in this process with
uvloop, on the same two cores as FreeRADIUS, Tenure and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pyrad.dictionary import Dictionary
from pyrad.packet import AccessAccept, AccessRequest, AuthPacket
from tests.e2e.network.radius_support import config_dir, freeradius, missing_binaries

from bench.data import Dataset, internet_login
from bench.harness import Result, percentile
from bench.load import Server
from tenure.adapters.db.uow import UnitOfWork
from tenure.services import api_keys

SOCKETS = 16
TIMEOUT = 5.0
SECRET = "bench-nas-secret"
PASSWORD = "bench-password"
# Just the attributes sent and read; pyrad encrypts User-Password (encrypt=1).
DICTIONARY = """
ATTRIBUTE User-Name 1 string
ATTRIBUTE User-Password 2 string encrypt=1
ATTRIBUTE NAS-IP-Address 4 ipaddr
ATTRIBUTE Reply-Message 18 string
ATTRIBUTE Class 25 octets
ATTRIBUTE Called-Station-Id 30 string
"""
# The bare site: Tenure's listener and NAS, password checked the same way, no Tenure.
BARE_SITE = """
server tenure {
	listen {
		type = auth
		ipaddr = *
		port = "$ENV{RADIUS_AUTH_PORT}"
	}
	client tenure_nas {
		ipaddr = 127.0.0.1
		secret = "$ENV{RADIUS_SECRET}"
	}
	authorize {
		filter_username
		files
		if (!&control:Cleartext-Password) {
			reject
		}
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
	}
	post-auth {
		Post-Auth-Type REJECT {
			attr_filter.access_reject
		}
	}
}
"""


def available() -> str | None:
    """Why P8 cannot run here (Debian's freeradius, freeradius-rest, freeradius-utils), or None."""
    return missing_binaries()


def radius_key(ds: Dataset) -> str:
    """What FreeRADIUS sends to Tenure: an API key of the operator with scope `radius`."""
    created = api_keys.create_key_unchecked(
        UnitOfWork(ds.engine), name="bench radius", scopes=["radius"], account_id=None, now=datetime.now(UTC)
    )
    return created.secret


@dataclass
class Load:
    sent: int
    accepted: int
    failures: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def accepts_per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 99) if self.latencies_ms else TIMEOUT * 1000


class _Answers(asyncio.DatagramProtocol):
    """One NAS socket's answers; a late answer to an earlier request is dropped by its id."""

    def __init__(self) -> None:
        self.expected = -1
        self.waiting: asyncio.Future[bytes] | None = None

    def expect(self, ident: int) -> asyncio.Future[bytes]:
        self.expected = ident
        self.waiting = asyncio.get_running_loop().create_future()
        return self.waiting

    def datagram_received(self, data: bytes, addr: object) -> None:
        if self.waiting is not None and not self.waiting.done() and len(data) > 1 and data[1] == self.expected:
            self.waiting.set_result(data)


def _request(dictionary: Dictionary, ident: int, user: str) -> AuthPacket:
    packet = AuthPacket(code=AccessRequest, id=ident, secret=SECRET.encode(), dict=dictionary)
    packet["User-Name"] = user
    packet["User-Password"] = packet.PwCrypt(PASSWORD)
    packet["NAS-IP-Address"] = "127.0.0.1"
    packet["Called-Station-Id"] = "00-11-22-33-44-55:bench"
    return packet


async def _closed_loop(port: int, logins: Sequence[str], seconds: float) -> Load:
    dictionary = Dictionary(io.StringIO(DICTIONARY))
    loop = asyncio.get_running_loop()
    turn = itertools.count()
    result = Load(sent=0, accepted=0, failures=0, seconds=0.0)
    end = time.perf_counter() + seconds

    async def nas(k: int) -> None:
        transport, answers = await loop.create_datagram_endpoint(_Answers, remote_addr=("127.0.0.1", port))
        try:
            for ident in itertools.cycle(range(256)):
                if time.perf_counter() >= end:
                    return
                request = _request(dictionary, ident, logins[next(turn) % len(logins)])
                waiting = answers.expect(ident)
                started = time.perf_counter()
                transport.sendto(request.RequestPacket())
                result.sent += 1
                try:
                    raw = await asyncio.wait_for(waiting, TIMEOUT)
                except TimeoutError:
                    result.failures += 1
                    continue
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                reply = request.CreateReply(packet=raw)
                if request.VerifyReply(reply, raw) and reply.code == AccessAccept:
                    result.accepted += 1
                else:
                    result.failures += 1
        finally:
            transport.close()

    started = time.perf_counter()
    await asyncio.gather(*(nas(k) for k in range(SOCKETS)))
    result.seconds = time.perf_counter() - started
    return result


def closed_loop(port: int, logins: Sequence[str], seconds: float) -> Load:
    coroutine = _closed_loop(port, logins, seconds)
    try:
        import uvloop  # comes with uvicorn[standard]
    except ImportError:  # pragma: no cover
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def _measure(dest: Path, *, tenure_url: str, key: str, logins: Sequence[str], seconds: float) -> Load:
    """FreeRADIUS from `dest` in production mode: a check, a one-second warm-up, then the timed run."""
    with freeradius(dest, tenure_url=tenure_url, tenure_key=key, secret=SECRET, debug=False) as server:
        check = closed_loop(server.auth_port, logins[:SOCKETS], 0.2)
        if check.failures or not check.accepted:
            raise RuntimeError(
                f"P8: FreeRADIUS did not accept {logins[0]} (is the radius endpoint there?):\n{server.output()[-3000:]}"
            )
        closed_loop(server.auth_port, logins, 1.0)
        return closed_loop(server.auth_port, logins, seconds)


def run(ds: Dataset, server: Server, *, seconds: int, size: str) -> list[Result]:
    logins = [internet_login(i) for i in range(ds.shape.clients)]
    users = dict.fromkeys(logins, PASSWORD)
    key = radius_key(ds)
    with config_dir(users) as bare_dest, config_dir(users) as dest:
        (bare_dest / "sites-available" / "tenure").write_text(BARE_SITE)
        bare = _measure(bare_dest, tenure_url=server.base, key=key, logins=logins, seconds=seconds)
        server.reset_peak()
        ours = _measure(dest, tenure_url=server.base, key=key, logins=logins, seconds=seconds)
        rss = server.peak_rss_mb()
    ratio = ours.accepts_per_second / bare.accepts_per_second if bare.accepts_per_second else 0.0
    counts = {"ours": _counts(ours), "bare": _counts(bare)}
    failures = f"failures: {ours.failures:,} of {ours.sent:,} with Tenure, {bare.failures:,} of {bare.sent:,} without"
    return [
        Result(
            scenario="P8",
            what=f"Access-Request via FreeRADIUS asking Tenure vs FreeRADIUS alone, {SOCKETS} NAS sockets (accepts/s)",
            backend=ds.engine.dialect.name,
            size=size,
            ours=ours.accepts_per_second,
            bare=bare.accepts_per_second,
            unit="req/s",
            higher_is_better=True,
            target="≥ 50 % of without Tenure, 0 failures",
            met=ratio >= 0.5 and ours.failures == 0 and bare.failures == 0,
            peak_rss_mb=rss,
            notes=failures,
            extra=counts,
        ),
        Result(
            scenario="P8",
            what=f"Access-Request p99 in the same closed loop, {SOCKETS} NAS sockets (ms)",
            backend=ds.engine.dialect.name,
            size=size,
            ours=ours.p99_ms,
            bare=bare.p99_ms,
            unit="ms p99",
            higher_is_better=False,
            target="(none)",
            met=None,
            peak_rss_mb=rss,
            notes=failures,
            extra=counts,
        ),
    ]


def _counts(load: Load) -> dict[str, float]:
    return {"sent": load.sent, "accepted": load.accepted, "failures": load.failures, "seconds": round(load.seconds, 2)}
