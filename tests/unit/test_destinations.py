"""The destination rule for partners' webhooks, on addresses, and the guard that applies it after DNS."""

from __future__ import annotations

import re
from ipaddress import ip_address

import pytest

from tenure.adapters.destinations import DestinationGuard, DestinationRefused, Resolver, UnresolvedHost
from tenure.domain.destinations import IPAddress, literal_address, parse_networks, redact, refusal


class FakeDns(Resolver):
    """Answers from a table instead of the network; names not in it do not resolve."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        literal = literal_address(host)
        if literal is not None:
            return [literal]
        if host not in self.answers:
            raise UnresolvedHost(f"{host} does not resolve")
        return [ip_address(a) for a in self.answers[host]]


@pytest.mark.parametrize(
    ("address", "what"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
        ("224.0.0.1", "multicast"),
    ],
)
def test_internal_addresses_are_refused_and_say_why(address: str, what: str) -> None:
    reason = refusal(ip_address(address))
    assert reason is not None and what in reason


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ip_address(address)) is None


def test_the_allowed_networks_open_exactly_what_they_list() -> None:
    allowed = parse_networks("10.20.0.0/16, fd00:1::/32 127.0.0.1/32")
    assert refusal(ip_address("10.20.5.6"), allowed) is None
    assert refusal(ip_address("fd00:1::5"), allowed) is None
    assert refusal(ip_address("127.0.0.1"), allowed) is None
    assert refusal(ip_address("10.21.0.1"), allowed) is not None
    assert refusal(ip_address("127.0.0.2"), allowed) is not None
    assert parse_networks("") == ()
    with pytest.raises(ValueError, match="not a CIDR"):
        parse_networks("10.0.0.0/33")


def test_the_guard_refuses_a_name_when_any_of_its_addresses_is_refused() -> None:
    guard = DestinationGuard((), FakeDns({"ok.test": ["93.184.215.14"], "mixed.test": ["93.184.215.14", "10.0.0.1"]}))
    assert guard.addresses_for("https://ok.test/in") == [ip_address("93.184.215.14")]
    with pytest.raises(
        DestinationRefused, match=re.escape("mixed.test resolves to a refused address: 10.0.0.1 is a private address")
    ):
        guard.addresses_for("https://mixed.test/in")
    with pytest.raises(DestinationRefused, match="loopback"):
        guard.addresses_for("http://[::1]:8080/in")
    with pytest.raises(UnresolvedHost):
        guard.addresses_for("https://nowhere.test/in")


def test_credentials_are_redacted_and_nothing_else_changes() -> None:
    assert redact("https://user:s3cret@hooks.example:8443/in?a=1") == "https://***@hooks.example:8443/in?a=1"
    assert redact("https://token@hooks.example/in") == "https://***@hooks.example/in"
    assert redact("https://hooks.example/in?next=a@b") == "https://hooks.example/in?next=a@b"
