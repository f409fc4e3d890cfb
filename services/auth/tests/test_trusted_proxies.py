"""Whose X-Forwarded-For auth believes: the gateway's address, or the network it runs in
(a container network, a cluster's pod range), never anyone else's."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from auth.deps import trusted
from auth.settings import AuthSettings


def test_an_address_inside_a_trusted_network_is_trusted() -> None:
    settings = AuthSettings(dev_mode=True, trusted_proxies=["10.42.0.0/16", "::1"])
    assert trusted("10.42.7.19", settings.trusted_networks)
    assert trusted("::1", settings.trusted_networks)


@pytest.mark.parametrize("peer", ["10.43.0.1", "127.0.0.1", "unknown", "", "10.42.0.0/16"])
def test_any_other_peer_is_not(peer: str) -> None:
    settings = AuthSettings(dev_mode=True, trusted_proxies=["10.42.0.0/16", "::1"])
    assert not trusted(peer, settings.trusted_networks)


def test_single_addresses_still_work() -> None:
    settings = AuthSettings(dev_mode=True)
    assert trusted("127.0.0.1", settings.trusted_networks)
    assert not trusted("127.0.0.2", settings.trusted_networks)


def test_a_malformed_entry_is_refused_at_start() -> None:
    with pytest.raises(ValidationError):
        AuthSettings(dev_mode=True, trusted_proxies=["10.42.0.0/33"])
