"""Where a partner's webhook may be sent (api.md "Webhooks"): the one rule, on addresses only.

Addresses inside a provider's network (loopback, private, link-local,
unspecified, and anything else not globally routable) are where its own
systems live: the operator's admins may target them, a partner may not,
unless the operator lists the network in TENURE_WEBHOOK_ALLOWED_NETWORKS.
The rule is applied to every address a host name resolves to, at creation
and again before every delivery, so DNS rebinding does not get around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import SplitResult, urlsplit

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
REDACTED = "***"


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """A comma- or space-separated CIDR list (`10.20.0.0/16, fd00::/8`); a bad entry raises ValueError."""
    networks = []
    for entry in text.replace(",", " ").split():
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError as error:
            raise ValueError(f"{entry!r} is not a CIDR network (as in 10.20.0.0/16)") from error
    return tuple(networks)


def literal_address(host: str) -> IPAddress | None:
    """The address when the host is an IP literal (`[::1]` without brackets, a zone id dropped), else None."""
    try:
        return ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def refusal(address: IPAddress, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why a partner's webhook may not go to `address`, or None when it may.

    An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is judged as the
    IPv4 address it is. The allowed networks win over every other test.
    """
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed):
        return None
    for what, matches in (
        ("an unspecified address", address.is_unspecified),
        ("a loopback address", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a private address", address.is_private),
        ("a multicast address", address.is_multicast),
        ("not globally routable", not address.is_global),
    ):
        if matches:
            return f"{address} is {what}; partners' webhooks go only to public addresses"
    return None


def redact(url: str) -> str:
    """The URL without the credentials it may carry (`https://***@host/…`): what is shown and logged."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return SplitResult(parts.scheme, f"{REDACTED}@{host}", parts.path, parts.query, parts.fragment).geturl()
