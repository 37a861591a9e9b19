"""Where a webhook may point: http(s) only, and in production only public addresses."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
# http(s), an optional user, a host name or IPv4 address, an optional port, then any printable
# ASCII: what the API and the page accept (an IPv6 literal is not; a name may resolve to one).
URL_PATTERN = (r"^https?://([A-Za-z0-9._~%!$&'()*+,;=:-]*@)?[A-Za-z0-9.-]+"
               rf"(:{PORT})?([/?#][!-~]*)?$")


class Refused(ValueError):
    """The URL may not receive webhooks; the message says why."""


def check(url: str, *, production: bool) -> None:
    """Refuse a URL that is not http(s), or, in production, whose host resolves to any
    address that is not public (private, loopback, link-local, multicast, unspecified…)."""
    split(url)
    if production:
        resolve(url, production=True)


def split(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, the port defaulted; Refused otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused("only http and https URLs can receive webhooks")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise Refused("the URL's port is not a number from 0 to 65535") from None
    if not host:
        raise Refused("the URL has no host")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def resolve(url: str, *, production: bool) -> list[tuple[int, str, int]]:
    """The addresses the URL's host resolves to, as (family, ip, port), best first: what a
    delivery connects to, so the address checked is the address used (no second lookup a
    rebinding name server could answer differently). In production every address must be
    public, else Refused; outside production any address is allowed."""
    _, host, port = split(url)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve: {exc}") from None
    resolved: list[tuple[int, str, int]] = []
    for family, _, _, _, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if production and not public(address):
            raise Refused(f"{host} resolves to {address}, which is not a public address")
        if (family, sockaddr[0], port) not in resolved:
            resolved.append((family, sockaddr[0], port))
    if not resolved:
        raise Refused(f"{host} does not resolve")
    return resolved


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is on the public internet (an IPv4-mapped one is read as IPv4)."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_unspecified or address.is_reserved)
