"""The connect-time address check: whatever a name resolved to when saved, the connected address decides."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("headwater_webhooks")

from headwater.exceptions import HeadwaterError  # noqa: E402
from headwater_webhooks.security import AddressRefused, NetworkPolicy, guarded_session  # noqa: E402


def test_a_name_that_resolves_to_loopback_at_connect_time_is_refused_before_sending(receiver, monkeypatch):
    policy = NetworkPolicy()
    real = socket.getaddrinfo
    answers = iter(["93.184.216.34", "127.0.0.1"])  # public when saved, loopback when connecting

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"http://rebind.example:{receiver.port}/hook"
    policy.check_url(url)  # passes: the name resolves to a public address now
    with pytest.raises(AddressRefused, match="127.0.0.1 is a loopback address"):
        guarded_session(policy).post(url, data=b"{}", timeout=5)
    assert receiver.received == []


def test_allowed_networks_and_the_private_switch(receiver):
    url = f"http://127.0.0.1:{receiver.port}/hook"
    with pytest.raises(HeadwaterError):
        NetworkPolicy().check_url(url)
    NetworkPolicy.from_env({"HEADWATER_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"}).check_url(url)
    NetworkPolicy.from_env({"HEADWATER_WEBHOOK_ALLOW_PRIVATE_IPS": "true"}).check_url(url)
    session = guarded_session(NetworkPolicy.from_env({"HEADWATER_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}))
    assert session.post(url, data=b"{}", timeout=5).status_code == 200
    assert len(receiver.received) == 1


@pytest.mark.parametrize("address", ["::1", "::ffff:127.0.0.1", "fe80::1", "0.0.0.0", "192.168.1.1", "224.0.0.1"])
def test_refused_address_kinds(address):
    assert NetworkPolicy().refusal(address)


def test_public_addresses_pass():
    assert NetworkPolicy().refusal("93.184.216.34") is None


def test_scheme_allow_list_from_the_environment():
    with pytest.raises(HeadwaterError, match="scheme"):
        NetworkPolicy.from_env({"HEADWATER_WEBHOOK_ALLOWED_SCHEMES": "https"}).check_url("http://93.184.216.34/")
