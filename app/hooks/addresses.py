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
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused("only http and https URLs can receive webhooks")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise Refused("the URL's port is not a number from 0 to 65535") from None
    if not host:
        raise Refused("the URL has no host")
    if not production:
        return
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not public(address):
            raise Refused(f"{host} resolves to {address}, which is not a public address")


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is on the public internet (an IPv4-mapped one is read as IPv4)."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_unspecified or address.is_reserved)
