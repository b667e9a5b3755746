"""Resolving a webhook's host and applying the destination rule to every address it resolves to.

The rule itself is `domain.destinations.refusal`; this module adds DNS. A
partner's delivery is then sent to the very address that was checked (see
`adapters.webhooks`), never to a second, possibly different, answer.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tenure.domain.destinations import IPAddress, IPNetwork, literal_address, refusal
from tenure.domain.errors import ValidationFailed
from tenure.services.ports import UnresolvedHost

__all__ = ["DestinationGuard", "DestinationRefused", "Resolver", "UnresolvedHost"]


class DestinationRefused(ValidationFailed):
    """A partner's webhook URL leads to an address the rule refuses (422 on `url` at creation)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, field="url")


class Resolver:
    """Host name to addresses through the system's resolver; an IP literal is its own answer."""

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        literal = literal_address(host)
        if literal is not None:
            return [literal]
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise UnresolvedHost(f"{host} does not resolve: {error}") from error
        addresses = [literal_address(str(info[4][0])) for info in found]
        return list(dict.fromkeys(a for a in addresses if a is not None))


@dataclass(frozen=True)
class DestinationGuard:
    """The partner rule with the operator's allowed networks, on what DNS says now (`services.ports.Destinations`)."""

    allowed: Sequence[IPNetwork] = ()
    resolver: Resolver = field(default_factory=Resolver)

    def addresses_for(self, url: str) -> list[IPAddress]:
        """Every address `url`'s host resolves to, when the rule allows them all.

        One refused address refuses the URL: a rebinding name may hand out a
        public and a private address together.
        """
        parts = urlsplit(url)
        host = parts.hostname or ""
        addresses = self.resolver.addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
        if not addresses:
            raise UnresolvedHost(f"{host} has no address")
        for address in addresses:
            reason = refusal(address, self.allowed)
            if reason:
                raise DestinationRefused(
                    reason if literal_address(host) else f"{host} resolves to a refused address: {reason}"
                )
        return addresses
