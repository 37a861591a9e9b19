"""SMTP_URL read into where and how to send mail: smtps (TLS), smtp (STARTTLS) or plain."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

# How the connection is protected:
#   tls       smtps://host[:465]            TLS from the first byte
#   starttls  smtp://user:pass@host[:587]   STARTTLS, required: a password never goes in the clear
#   auto      smtp://host[:port]            STARTTLS when the server offers it, else plain (no
#                                           login: CONTRACT §12's smtp://host:1025 sink)
#   plain     smtp+plain://host[:25]        or smtp://host?starttls=false: never TLS
SECURITY = ("tls", "starttls", "auto", "plain")
DEFAULT_PORTS = {"tls": 465, "starttls": 587, "auto": 587, "plain": 25}
STARTTLS_VALUES = {"true": "starttls", "required": "starttls", "auto": "auto", "false": "plain"}


@dataclass(frozen=True)
class SmtpSettings:
    """Host, port, protection and optional login of the mail server."""

    host: str
    port: int
    security: str  # one of SECURITY
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never the password in a log line
        login = f"{self.username}:***@" if self.username else ""
        return f"SmtpSettings({self.security} {login}{self.host}:{self.port})"


def parse(url: str) -> SmtpSettings:
    """Read an SMTP_URL; ValueError says what is wrong with it."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "smtps":
        security = "tls"
    elif scheme == "smtp":  # with a login STARTTLS is required; without, used when offered
        security = "starttls" if parts.username or parts.password else "auto"
    elif scheme == "smtp+plain":
        security = "plain"
    else:
        raise ValueError("the scheme must be smtp (STARTTLS; required with a login), smtps (TLS) "
                         f"or smtp+plain (no TLS), got {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise ValueError("it names no host, like smtp://mail.example.com:587")
    if parts.path not in ("", "/"):
        raise ValueError(f"it must have no path, got {parts.path!r}")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"starttls"}
    if unknown:
        raise ValueError(f"the only option is starttls, got {', '.join(sorted(unknown))}")
    if "starttls" in query:
        value = query["starttls"][-1].lower()
        if scheme != "smtp" or value not in STARTTLS_VALUES:
            raise ValueError("starttls= takes true, auto or false, and only with smtp://")
        security = STARTTLS_VALUES[value]
    try:
        port = parts.port or DEFAULT_PORTS[security]
    except ValueError:
        raise ValueError(f"the port must be a number from 1 to 65535 in {parts.netloc!r}") \
            from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password and security == "auto":
        raise ValueError("starttls=auto would send the password in the clear to a server "
                         "without STARTTLS: use smtp:// (STARTTLS required) or smtps://")
    return SmtpSettings(host=parts.hostname, port=port, security=security,
                        username=username, password=password)
