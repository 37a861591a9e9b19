"""One webhook POST from a worker: signed, 10 s timeout, each attempt recorded; a failure is
retried with exponential backoff and full jitter until the delivery's 24 hours are over, and
an endpoint failing for 24 hours is disabled and its landlord told."""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import certifi
import urllib3
from requests.utils import requote_uri
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError

from app import clock
from app.config import Config
from app.db import transaction
from app.hooks import addresses, signing
from app.hooks.queueing import LEASE, WINDOW
from app.messaging import gsm, outbound
from app.models import Event, Landlord, WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0  # connect and read; the actor's time limit is well above it
EXCERPT_BYTES = 500
CA_CERTS = certifi.where()  # the CAs an https receiver's certificate must chain to
BASE_DELAY_SECONDS = 10.0  # the longest wait after the 1st failure; doubled after each
MAX_DELAY_SECONDS = 3600.0
jitter = random.random  # full jitter: a wait is uniform in [0, the cap); tests pin it


def backoff(attempts: int) -> float:
    """Seconds to wait after the attempts-th failed attempt (at least one)."""
    cap = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** (attempts - 1))
    return max(1.0, jitter() * cap)


def envelope(event: Event) -> bytes:
    """The body POSTed for an event: {id, type, at, ticketId, data} (CONTRACT.md §12)."""
    return json.dumps({"id": event.id, "type": event.type, "at": clock.isoformat(event.created_at),
                       "ticketId": event.ticket_id, "data": event.data},
                      separators=(",", ":")).encode()


def deliver(delivery_id: int, config: Config) -> str:
    """Try one delivery once; safe to run twice (a claim lets one worker send at a time)."""
    now = clock.now()
    with transaction():
        claimed = (WebhookDelivery.update(claimed_at=now, attempts=WebhookDelivery.attempts + 1)
                   .where(WebhookDelivery.id == delivery_id,
                          WebhookDelivery.delivered_at.is_null(),
                          WebhookDelivery.gave_up_at.is_null(),
                          WebhookDelivery.next_attempt_at <= now + LEASE,
                          WebhookDelivery.claimed_at.is_null()
                          | (WebhookDelivery.claimed_at <= now - LEASE))
                   .execute())
    if claimed != 1:
        return "skipped"
    delivery = WebhookDelivery.get_by_id(delivery_id)
    endpoint = WebhookEndpoint.find(delivery.endpoint_id)
    if endpoint is None or endpoint.disabled_at is not None:  # deleted or turned off
        _give_up(delivery, now)
        return "skipped"
    status, error = _post(delivery, endpoint, Event.get_by_id(delivery.event_id), config)
    if status is not None and 200 <= status < 300:
        _delivered(delivery, endpoint, status)
        return "delivered"
    return _failed(delivery, endpoint, status, config)


def _post(delivery: WebhookDelivery, endpoint: WebhookEndpoint, event: Event,
          config: Config) -> tuple[int | None, str | None]:
    """POST once and record the attempt; (HTTP status or None, error or None)."""
    started_at, started = clock.now(), time.perf_counter()
    status, excerpt, error = None, b"", None
    try:
        body = envelope(event)
        stamp = int(time.time())
        status, excerpt = send(endpoint.url, body, {
            "Content-Type": "application/json", "User-Agent": "Fixline-Webhooks/1",
            signing.HEADER: signing.sign(endpoint.secret, body, stamp)}, config)
    except addresses.Refused as exc:
        error = f"refused: {exc}"
    except NewConnectionError as exc:  # refused or unreachable (urllib3 files it as a timeout)
        error = f"{type(exc).__name__}: {exc}"[:500]
    except (ConnectTimeoutError, ReadTimeoutError):
        error = f"no answer within {TIMEOUT_SECONDS:g} s"
    except Exception as exc:  # refused connection, TLS, a reset midway: one failed attempt
        error = f"{type(exc).__name__}: {exc}"[:500]
    if status is not None and not 200 <= status < 300 and error is None:
        error = f"HTTP {status}"
    with transaction():
        WebhookAttempt.create(delivery=delivery.id, started_at=started_at, status_code=status,
                              duration_ms=round((time.perf_counter() - started) * 1000),
                              response_excerpt=excerpt[:EXCERPT_BYTES].decode("utf-8", "replace"),
                              error=error)
    return status, error


def send(url: str, body: bytes, headers: dict[str, str],
         config: Config) -> tuple[int, bytes]:
    """POST body to url once; (status, the first EXCERPT_BYTES of the answer). The host is
    resolved and checked once (DNS may have changed since the endpoint was added) and the
    connection goes to that very address, never to a second lookup a rebinding name server
    could answer with an address inside the network; TLS still verifies the URL's host
    name (SNI and certificate). No redirects (one could point into the network), no proxy."""
    scheme, host, port = addresses.split(url)
    _, ip, _ = addresses.resolve(url, production=config.production)[0]
    parts = urlsplit(url)
    named = f"[{host}]" if ":" in host else host
    headers = {**headers, "Host": named if port == (443 if scheme == "https" else 80)
               else f"{named}:{port}"}
    if parts.username is not None:  # user:password@ in the URL is Basic auth, as before
        headers["Authorization"] = urllib3.make_headers(basic_auth=(
            f"{unquote(parts.username)}:{unquote(parts.password or '')}"))["authorization"]
    target = requote_uri(parts.path or "/") + (f"?{requote_uri(parts.query)}"
                                                 if parts.query else "")
    timeout = urllib3.Timeout(connect=TIMEOUT_SECONDS, read=TIMEOUT_SECONDS)
    if scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            ip, port, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED",
            ca_certs=CA_CERTS, timeout=timeout, retries=False, maxsize=1)
    else:
        pool = urllib3.HTTPConnectionPool(ip, port, timeout=timeout, retries=False, maxsize=1)
    with pool:
        response = pool.urlopen("POST", target, body=body, headers=headers, retries=False,
                                redirect=False, timeout=timeout, preload_content=False,
                                assert_same_host=False)
        try:
            return response.status, response.read(EXCERPT_BYTES, decode_content=True) or b""
        finally:
            response.close()  # the rest of a long answer is not read
            response.release_conn()


def _delivered(delivery: WebhookDelivery, endpoint: WebhookEndpoint, status: int) -> None:
    now = clock.now()
    with transaction():
        (WebhookDelivery.update(delivered_at=now, last_status=status, next_attempt_at=None,
                                claimed_at=None)
         .where(WebhookDelivery.id == delivery.id).execute())
        if endpoint.failing_since is not None:
            (WebhookEndpoint.update(failing_since=None)
             .where(WebhookEndpoint.id == endpoint.id).execute())


def _failed(delivery: WebhookDelivery, endpoint: WebhookEndpoint, status: int | None,
            config: Config) -> str:
    """Schedule the next attempt, or give up; disable an endpoint failing for WINDOW."""
    now = clock.now()
    failing_since = endpoint.failing_since or now
    with transaction():
        if endpoint.failing_since is None:
            (WebhookEndpoint.update(failing_since=now)
             .where(WebhookEndpoint.id == endpoint.id).execute())
        if now - failing_since >= WINDOW:
            _disable(endpoint, now, config)
            return "disabled"
        if now >= delivery.retry_until:
            _give_up(delivery, now, status)
            return "gave_up"
        # The last attempt falls on retry_until itself, so 24 hours are tried in full.
        next_at = min(now + timedelta(seconds=backoff(delivery.attempts)), delivery.retry_until)
        (WebhookDelivery.update(next_attempt_at=next_at, last_status=status, claimed_at=None)
         .where(WebhookDelivery.id == delivery.id).execute())
    return "retrying"


def _give_up(delivery: WebhookDelivery, now, status: int | None = None) -> None:
    (WebhookDelivery.update(gave_up_at=now, next_attempt_at=None, claimed_at=None,
                            last_status=status if status is not None
                            else WebhookDelivery.last_status)
     .where(WebhookDelivery.id == delivery.id).execute())


def _disable(endpoint: WebhookEndpoint, now, config: Config) -> None:
    """Turn an endpoint off, give up its open deliveries, and tell the landlord (SMS, and
    email with a mail server), once."""
    done = (WebhookEndpoint.update(disabled_at=now)
            .where(WebhookEndpoint.id == endpoint.id, WebhookEndpoint.disabled_at.is_null())
            .execute())
    (WebhookDelivery.update(gave_up_at=now, next_attempt_at=None, claimed_at=None)
     .where(WebhookDelivery.endpoint == endpoint.id, WebhookDelivery.delivered_at.is_null(),
            WebhookDelivery.gave_up_at.is_null()).execute())
    if done != 1:
        return
    log.warning("webhook endpoint %s disabled after 24 hours of failures", endpoint.id)
    landlord = Landlord.get_by_id(endpoint.landlord_id)
    body = disabled_text(endpoint.url)
    outbound.queue(landlord=landlord.id, to=landlord.phone, body=body,
                   recipient=("landlord", landlord.id), dedupe_key=f"webhook:{endpoint.id}:off")
    if config.smtp_url and landlord.email:  # without a mail server the SMS is enough
        outbound.queue(landlord=landlord.id, to=landlord.email, body=body, channel="email",
                       recipient=("landlord", landlord.id),
                       dedupe_key=f"webhook:{endpoint.id}:off:email")


def disabled_text(url: str) -> str:
    """What the landlord is told when an endpoint is turned off (GSM-7, two segments)."""
    return gsm.fit(f"Fixline: your webhook {gsm.to_gsm(url)[:80]} failed for 24 hours and is "
                   "now turned off. Events are no longer sent to it; add it again under "
                   "Webhooks once the receiver works.")
