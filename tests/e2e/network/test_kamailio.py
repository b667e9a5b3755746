"""Kamailio enforces Tenure on real calls (issue 11 §3): SIPp through integrations/kamailio/kamailio.cfg.

Every case runs under both entitlement policies (connect and metis) and on
SQLite and PostgreSQL (see conftest.py). Outbound calls come from a
subscriber's address; inbound ones from CARRIER_IP:CARRIER_PORT.
"""

from __future__ import annotations

import pytest

from tests.e2e.network.conftest import Network
from tests.e2e.network.support import Answer, unresponsive

# One worker runs them all (the daemons are started once per module and parameter).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("network")]

ALLOWED = Answer(200, None)


def test_an_active_number_calls_out_and_is_called(network: Network) -> None:
    _client, number, _service = network.client_with_number("Active Ltd")
    digits = number.removeprefix("+")
    assert network.outbound(number) == ALLOWED
    assert network.outbound(digits) == ALLOWED  # digits without + are E.164 digits
    assert network.inbound(number) == ALLOWED
    assert network.inbound(digits) == ALLOWED


def test_the_calling_number_is_taken_from_p_asserted_identity_before_from(network: Network) -> None:
    _client, number, _service = network.client_with_number("Asserted Ltd")
    assert network.outbound("+442079499999", pai=f"<sip:{number}@carrier.example>") == ALLOWED
    assert network.outbound("+442079499999", pai=f"<tel:{number}>") == ALLOWED
    refused = network.outbound(number, pai="<sip:+442079499999@carrier.example>")
    assert refused.status == 403 and refused.reason == "no active service holds +442079499999"


def test_a_suspended_client_cannot_call_out_but_is_still_called_and_calls_again_once_unsuspended(
    network: Network,
) -> None:
    client, number, _service = network.client_with_number("Held Ltd")
    network.api("POST", f"/accounts/{client}/suspend", json={"reason": "non_payment"})
    refused = network.outbound(number)
    assert refused == Answer(403, network.because(number, "outbound_calls"))
    assert refused.reason is not None and refused.reason.startswith("suspended: non-payment hold on client Held Ltd")
    assert network.inbound(number) == ALLOWED
    network.api("POST", f"/accounts/{client}/unsuspend", json={})
    assert network.outbound(number) == ALLOWED  # the very next call


def test_a_client_suspended_through_its_channel_cannot_call_out_but_is_still_called(network: Network) -> None:
    channel = network.channel("Bayside Sales")
    _client, number, _service = network.client_with_number("Bayside Ltd", channel)
    network.api("POST", f"/accounts/{channel}/suspend", json={"reason": "fraud"})
    refused = network.outbound(number)
    assert refused == Answer(403, network.because(number, "outbound_calls"))
    assert refused.reason is not None and "channel Bayside Sales" in refused.reason
    assert network.inbound(number) == ALLOWED


def test_a_decommissioned_clients_number_is_unknown(network: Network) -> None:
    client, number, _service = network.client_with_number("Gone Ltd")
    network.api("POST", f"/accounts/{client}/decommission", json={})  # ends its services today
    assert network.outbound(number) == Answer(403, f"no active service holds {number}")
    assert network.inbound(number) == Answer(404, None)


def test_a_removed_number_is_unknown(network: Network) -> None:
    client, number, service = network.client_with_number("Moved Ltd")
    network.api("DELETE", f"/accounts/{client}/services/{service}")
    assert network.outbound(number) == Answer(403, f"no active service holds {number}")
    assert network.inbound(number) == Answer(404, None)


def test_a_number_tenure_does_not_know_is_refused_out_and_not_found_in(network: Network) -> None:
    assert network.outbound("+442079499997") == Answer(403, "no active service holds +442079499997")
    assert network.outbound("alice") == Answer(403, "not an E.164 number")  # the user part is not echoed
    assert network.inbound("+442079499997") == Answer(404, None)
    assert network.inbound("reception") == Answer(404, None)


def test_without_tenure_open_relays_and_logs_and_closed_answers_503(network: Network) -> None:
    _client, number, _service = network.client_with_number("Outage Ltd")
    network.tenure.stop()
    assert network.outbound(number, mode="open") == ALLOWED
    assert network.inbound(number, mode="open") == ALLOWED
    assert network.outbound(number, mode="closed").status == 503
    assert network.inbound(number, mode="closed").status == 503
    relayed = network.kamailio["open"].log_lines("FAIL_MODE=open, relaying")
    assert any(number in line or number.removeprefix("+") in line for line in relayed), relayed

    with unresponsive(network.tenure.port):  # Tenure hangs: TIMEOUT_MS decides
        assert network.outbound(number, mode="open") == ALLOWED
        assert network.inbound(number, mode="closed").status == 503
    assert network.kamailio["open"].log_lines("no answer within 500 ms")
    assert network.kamailio["closed"].log_lines("no answer within 500 ms")
