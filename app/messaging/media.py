"""A vendor's MMS photos: fetched from Twilio, checked like intake photos, kept with the ticket."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

import requests
from peewee import IntegrityError
from requests.auth import AuthBase

from app.config import Config
from app.db import transaction
from app.models import Ticket, TicketPhoto
from app.web import uploads

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0  # to connect, and between two reads
DEADLINE_SECONDS = 60.0  # one photo, start to end (a slow drip is a network error too)
MAX_REDIRECTS = 3
CHUNK_BYTES = 64 * 1024
TWILIO_DOMAIN = "twilio.com"  # the account's credentials go to no other domain
MAX_URL_CHARS = 255  # TicketPhoto.source_url is a varchar(255); Twilio's are about 140


class Anonymous(AuthBase):
    """No credentials at all (requests would otherwise fill them in from ~/.netrc)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


def media_urls(form: Mapping[str, str], config: Config) -> list[str]:
    """The MediaUrlN values of an inbound webhook worth fetching: at most the intake's photo
    count, each Twilio's over https (or the local fake Twilio's that config points at)."""
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError:
        return []
    urls = []
    for number in range(max(0, min(count, uploads.MAX_PHOTOS))):
        url = (form.get(f"MediaUrl{number}") or "").strip()
        if twilio_url(url, config) and url not in urls:
            urls.append(url)
    if count > uploads.MAX_PHOTOS:
        log.info("MMS with %d photos: keeping the first %d", count, uploads.MAX_PHOTOS)
    return urls


def twilio_url(url: str, config: Config) -> bool:
    """Whether url may be sent the account's credentials: https on Twilio's domain, or the
    local fake's origin (config.twilio_api_base, tests only)."""
    parts = urlsplit(url)
    if len(url) > MAX_URL_CHARS:
        return False
    if config.twilio_api_base and _origin(url) == _origin(config.twilio_api_base):
        return True
    host = (parts.hostname or "").lower()
    return (parts.scheme == "https" and not parts.username and not parts.password
            and (host == TWILIO_DOMAIN or host.endswith("." + TWILIO_DOMAIN)))


def fetch_photos(ticket_id: int, urls: list[str], config: Config) -> int:
    """Download the photos not yet stored for the ticket and store the good ones as the
    vendor's; returns how many were stored. Safe to run twice. A photo that fails the intake
    checks is skipped and logged; a network or HTTP error raises, for the caller to retry.

    Runs inside the app context (photos go under its instance/uploads/).
    """
    urls = list(dict.fromkeys(urls))[:uploads.MAX_PHOTOS]
    ticket = Ticket.get_or_none(Ticket.id == ticket_id)
    if ticket is None or not urls:
        return 0
    stored = {row.source_url for row in (TicketPhoto.select(TicketPhoto.source_url)
                                         .where(TicketPhoto.ticket == ticket,
                                                TicketPhoto.source_url.in_(urls)))}
    count = 0
    with requests.Session() as session:
        for number, url in enumerate(urls):
            if url in stored:
                continue
            if not twilio_url(url, config):
                log.warning("ticket %s: not fetching %s (not a Twilio media URL)", ticket_id, url)
                continue
            outcome = uploads.accept(_download(session, url, config),
                                     f"Vendor photo {number + 1}")
            if isinstance(outcome, str):
                log.warning("ticket %s: skipped %s: %s", ticket_id, url, outcome)
                continue
            count += _store(ticket, outcome, url)
    return count


def _store(ticket: Ticket, photo: uploads.Photo, url: str) -> int:
    """Write one photo and its row; 0 when another run stored this URL meanwhile."""
    written = uploads.write([photo])
    try:
        with transaction():
            uploads.record(ticket, written, source="vendor", source_url=url)
    except IntegrityError:
        uploads.discard(written)
        return 0
    except BaseException:
        uploads.discard(written)
        raise
    return 1


def _download(session: requests.Session, url: str, config: Config) -> bytes:
    """The body at url, read no further than one byte past the intake photo size limit.

    The credentials go with the request to url only; a redirect (Twilio sends one to its
    CDN) is followed without them, to https (or the local fake) only.
    """
    deadline = time.monotonic() + DEADLINE_SECONDS
    auth: AuthBase | tuple[str, str] = (config.twilio_account_sid or "",
                                        config.twilio_auth_token)
    for _hop in range(MAX_REDIRECTS + 1):
        response = session.get(url, auth=auth, allow_redirects=False, stream=True,
                               timeout=TIMEOUT_SECONDS)
        with response:
            if not response.is_redirect:
                response.raise_for_status()
                return _read(response, deadline)
            url = urljoin(url, response.headers["Location"])
        if not (urlsplit(url).scheme == "https" or twilio_url(url, config)):
            raise requests.exceptions.InvalidURL(f"media redirected off https: {url}")
        auth = Anonymous()
    raise requests.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects for media")


def _read(response: requests.Response, deadline: float) -> bytes:
    """The body, or its first MAX_PHOTO_BYTES + 1 bytes (as intake reads an upload): enough
    for uploads.accept to refuse it as too large without downloading the rest."""
    limit = uploads.MAX_PHOTO_BYTES + 1
    data = bytearray()
    for chunk in response.iter_content(CHUNK_BYTES):
        data += chunk
        if len(data) >= limit:
            return bytes(data[:limit])
        if time.monotonic() > deadline:
            raise requests.Timeout(f"media took longer than {DEADLINE_SECONDS:.0f} s")
    return bytes(data)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()
