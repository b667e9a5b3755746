"""Sending RFC 5176 Disconnect-Requests with pyrad (no hand-built packets).

A request carries User-Name, Acct-Session-Id and Event-Timestamp. The answer is
one of: ACK (the NAS cut the session), NAK (with its Error-Cause, kept as the
NAS said it) or no answer within the timeout (retried later by the worker).
pyrad's client blocks, so a batch is sent from a few threads at once: a silent
NAS costs a batch one timeout, not one per session.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib.resources import files

from pyrad import packet
from pyrad.client import Client, Timeout
from pyrad.dictionary import Dictionary

from tenure.services.ports import DisconnectAnswer, DisconnectTarget

CONCURRENCY = 16


@cache
def dictionary() -> Dictionary:
    """The attributes Tenure uses, from the dictionary file shipped in this package."""
    return Dictionary(str(files("tenure.adapters.radius").joinpath("dictionary.txt")))


class DisconnectSender:
    def __init__(self, *, timeout: float = 3.0, tries: int = 2) -> None:
        self.timeout = timeout
        self.tries = tries

    def send_all(self, targets: Sequence[DisconnectTarget]) -> list[DisconnectAnswer]:
        if not targets:
            return []
        with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(targets))) as pool:
            return list(pool.map(self.send, targets))

    def send(self, target: DisconnectTarget) -> DisconnectAnswer:
        client = Client(
            server=target.nas_ip,
            coaport=target.coa_port,
            secret=target.secret.encode(),
            dict=dictionary(),
            retries=self.tries,
            timeout=self.timeout,
        )
        request = client.CreateCoAPacket(code=packet.DisconnectRequest)
        request["User-Name"] = target.user_name
        request["Acct-Session-Id"] = target.acct_session_id
        request["Event-Timestamp"] = int(target.event_time.timestamp())
        try:
            reply = client.SendPacket(request)
        except Timeout:
            return DisconnectAnswer(False, False, detail=f"no answer from {target.nas_ip}:{target.coa_port}")
        except (OSError, ValueError) as error:
            return DisconnectAnswer(False, False, detail=f"cannot send to {target.nas_ip}:{target.coa_port}: {error}")
        finally:
            client._CloseSocket()  # pyrad keeps the socket open otherwise; one client per request
        if reply.code == packet.DisconnectACK:
            return DisconnectAnswer(True, True)
        causes = reply.get("Error-Cause") or [None]
        return DisconnectAnswer(False, True, error_cause=causes[0])
