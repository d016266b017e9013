"""The client's address: the peer's own, unless the peer is a reverse proxy we trust."""

from __future__ import annotations

import ipaddress
from unittest import mock

import pytest
from aiohttp.test_utils import make_mocked_request

from app.edge.clients import client_address
from app.settings import SettingsError, load_settings

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1"))


def request_from(peer: str, forwarded: str | None = None) -> object:
    transport = mock.Mock()
    transport.get_extra_info.return_value = (peer, 40000)
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return make_mocked_request("POST", "/staff/login", headers=headers, transport=transport)


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.7", "198.51.100.2", "203.0.113.7"),  # not a proxy of ours: not believed
        ("10.0.0.5", "198.51.100.2", "198.51.100.2"),
        ("10.0.0.5", "192.0.2.1, 198.51.100.2", "198.51.100.2"),  # left of it: the client's
        ("10.0.0.5", "198.51.100.2, 10.0.0.9", "198.51.100.2"),  # through two of our proxies
        ("10.0.0.5", "not-an-address", "10.0.0.5"),
        ("10.0.0.5", None, "10.0.0.5"),
    ],
)
def test_only_a_trusted_proxy_is_believed_about_who_the_client_is(
    peer: str, forwarded: str | None, client: str
) -> None:
    assert client_address(request_from(peer, forwarded), PROXIES) == client  # type: ignore[arg-type]


def test_trusted_proxies_are_addresses_or_networks_separated_by_commas() -> None:
    secret = {"BUCHUMEN_JWT_SECRET": "s" * 40}
    given = secret | {"BUCHUMEN_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"}
    assert load_settings(given).trusted_proxies == PROXIES[::-1]
    assert load_settings(secret).trusted_proxies == ()  # by default nobody speaks for a client
    with pytest.raises(SettingsError, match="BUCHUMEN_TRUSTED_PROXIES"):
        load_settings(secret | {"BUCHUMEN_TRUSTED_PROXIES": "the-proxy"})
