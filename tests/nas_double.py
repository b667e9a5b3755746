"""A NAS double built on pyrad: receives Disconnect-Requests on 127.0.0.1 (a free port) and answers as told.

    with NasDouble(secret="s3cret") as nas:      # nas.port is the CoA port to register
        nas.answer = "ack" | "nak" | "silent"    # nak answers Error-Cause `nas.error_cause`
        ...
        nas.requests  # [Received(user_name, acct_session_id, event_timestamp, authentic)]

Requests whose authenticator does not verify with the secret are recorded with
`authentic=False` and never answered, as a real NAS would drop them.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from pyrad import packet

from tenure.adapters.radius.disconnect import dictionary

Answer = Literal["ack", "nak", "silent"]


@dataclass(frozen=True)
class Received:
    code: int
    user_name: str | None
    acct_session_id: str | None
    event_timestamp: int | None
    authentic: bool


class NasDouble:
    def __init__(self, *, secret: str, answer: Answer = "ack", error_cause: int = 503) -> None:
        self.secret = secret.encode()
        self.answer: Answer = answer
        self.error_cause = error_cause
        self.requests: list[Received] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self.port: int = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="nas-double", daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> NasDouble:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                raw, source = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            self._handle(raw, source)

    def _handle(self, raw: bytes, source: tuple[str, int]) -> None:
        request = packet.CoAPacket(secret=self.secret, dict=dictionary(), packet=raw)
        authentic = request.VerifyCoARequest()
        with self._lock:
            self.requests.append(
                Received(
                    request.code,
                    _first(request, "User-Name"),
                    _first(request, "Acct-Session-Id"),
                    _first(request, "Event-Timestamp"),
                    authentic,
                )
            )
        if not authentic or self.answer == "silent":
            return
        reply = request.CreateReply()
        if self.answer == "nak":
            reply.code = packet.DisconnectNAK
            reply["Error-Cause"] = self.error_cause
        self._socket.sendto(reply.ReplyPacket(), source)


def _first(request: packet.Packet, name: str) -> Any:
    values = request.get(name)
    return values[0] if values else None
