"""The Twilio channel: SMS and calls through the official SDK, errors mapped to SendError."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from app.config import Config
from app.messaging import voice
from app.messaging.channels import SendError, Sent
from app.models import Message

TIMEOUT_SECONDS = 10.0
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
MAX_VALIDITY_SECONDS = 36000  # Twilio's ValidityPeriod: 1 to 36000 seconds


class RebasedHttpClient(TwilioHttpClient):
    """Sends every SDK request to another origin (a local fake Twilio in tests)."""

    def __init__(self, base: str, **kwargs):
        super().__init__(**kwargs)
        parts = urlsplit(base)
        self.scheme, self.netloc = parts.scheme, parts.netloc

    def request(self, method: str, url: str, *args, **kwargs) -> Response:
        parts = urlsplit(url)
        rebased = urlunsplit((self.scheme, self.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, rebased, *args, **kwargs)


@lru_cache(maxsize=8)
def client_for(sid: str, token: str, base: str | None, timeout: float = TIMEOUT_SECONDS) -> Client:
    """One SDK client (and its connection pool) per account, token and API origin."""
    http = (RebasedHttpClient(base, timeout=timeout) if base
            else TwilioHttpClient(timeout=timeout))
    return Client(sid, token, http_client=http)


class TwilioChannel:
    """Carries SMS and voice messages through Twilio's REST API."""

    name = "twilio"
    remote = True

    def send(self, message: Message, config: Config) -> Sent:
        client = client_for(config.twilio_account_sid, config.twilio_auth_token,
                            config.twilio_api_base, TIMEOUT_SECONDS)
        options = {"to": message.to_number, **_sender(message, config)}
        if config.public_base_url:
            options["status_callback"] = config.public_base_url + STATUS_CALLBACK_PATH
        valid_for = getattr(message, "valid_for", None)  # an offer: never delivered late
        if valid_for is not None and message.channel == "sms":
            options["validity_period"] = max(1, min(MAX_VALIDITY_SECONDS, int(valid_for)))
        try:
            if message.channel == "voice":
                created = client.calls.create(twiml=call_twiml(message, config), **options)
            else:
                created = client.messages.create(body=message.body, **options)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise refused(exc) from exc
        except requests.RequestException as exc:  # unreachable, reset, timed out
            raise SendError(f"Twilio unreachable: {type(exc).__name__}") from exc
        except TwilioException as exc:
            raise SendError(f"Twilio client error: {exc}", retryable=False) from exc
        return Sent(provider_id=created.sid, status=created.status)


def _sender(message: Message, config: Config) -> dict:
    """From number, or for SMS the Messaging Service when one is configured."""
    if message.channel == "sms" and config.twilio_messaging_service_sid:
        return {"messaging_service_sid": config.twilio_messaging_service_sid}
    from_number = message.from_number or config.twilio_from_number
    if not from_number:
        raise SendError("TWILIO_FROM_NUMBER is not set", retryable=False)
    return {"from_": from_number}


def call_twiml(message: Message, config: Config) -> str:
    """A job offer asks for a keypress (1 or 2), an escalation alert for 1 (acknowledged);
    any other call just reads the message."""
    if message.ping_id is not None:
        return str(voice.offer(message.body, message.ping_id, config,
                               message.ping.vendor.language))
    if voice.is_alert(message):
        return str(voice.alert(message.body, message.ticket_id, config))
    return say(message.body)


def say(body: str) -> str:
    """TwiML that reads body aloud."""
    response = VoiceResponse()
    response.say(body)
    return str(response)


def refused(exc: TwilioRestException | TwilioServiceException) -> SendError:
    """An API error as a SendError: 408, 429 and 5xx are worth retrying, other 4xx are not."""
    status = int(exc.status)
    detail = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "")
    retryable = status in (408, 429) or status >= 500
    return SendError(f"Twilio {status} (code {exc.code}): {detail}", retryable=retryable)
