"""Who is on the other end: the client's address, through the reverse proxies we trust only."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(request: web.Request, trusted: Sequence[Network]) -> str | None:
    """The client's IP address: the peer's, unless the peer is one of our ``trusted`` proxies;
    then the nearest address in ``X-Forwarded-For`` that is not a trusted proxy (each proxy
    appends the address it saw, so everything left of that hop is the client's to invent).
    None when the peer has no IP address (a Unix socket)."""
    address = request.remote
    if not address or not _within(address, trusted):
        return address
    hops = ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")
    for hop in reversed([h.strip() for h in hops]):
        if not _is_ip(hop):
            break  # a malformed hop: stop at the last proxy that spoke for it
        address = hop
        if not _within(hop, trusted):
            break
    return address


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _within(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == n.version and ip in n for n in networks)
