"""Calls: the TwiML a vendor hears for an offer, and a landlord for an emergency's escalation,
each with a one-digit Gather that posts the answer back."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from app.config import Config
from app.i18n import N_, gettext, speaking

NO_ANSWER = N_("We did not get an answer. Goodbye.")
ALERT_NO_ANSWER = "We did not get an answer. Reply ACK to our text to acknowledge. Goodbye."
ALERT_CALL = "landlord-call"  # the last part of an escalation call's dedupe key


def action_url(ping_id: int, config: Config) -> str:
    """Where Twilio posts the keypress (absolute: inline TwiML has no base URL)."""
    return f"{config.link_base}/webhooks/twilio/voice?ping={ping_id}"


# The <Say> language of each language Fixline speaks (Twilio's basic voices have es-MX).
VOICES = {"es": "es-MX"}


def _gather(spoken: str, action: str, goodbye: str, language: str = "en") -> VoiceResponse:
    """Read spoken inside <Gather numDigits="1"> posting to action; goodbye if nothing."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=action, method="POST", timeout=10)
    voice = {"language": VOICES[language]} if language in VOICES else {}
    gather.say(spoken, **voice)
    response.say(goodbye, **voice)
    return response


def offer(spoken: str, ping_id: int, config: Config, language: str = "en") -> VoiceResponse:
    """Read the offer inside <Gather numDigits="1">: 1 accepts, 2 declines; in the vendor's
    language (the spoken offer was rendered in it)."""
    with speaking(language):
        goodbye = gettext(NO_ANSWER)
    return _gather(spoken, action_url(ping_id, config), goodbye, language)


def alert_key(event_id: int) -> str:
    """The dedupe key of the call to the landlord about one escalation (its event)."""
    return f"event:{event_id}:{ALERT_CALL}"


def is_alert(message) -> bool:
    """Whether an outbound call is an escalation alert to a landlord (it gathers an ACK)."""
    return (message.ticket_id is not None and message.dedupe_key is not None
            and message.dedupe_key.endswith(":" + ALERT_CALL))


def alert_url(ticket_id: int, config: Config) -> str:
    """Where Twilio posts the landlord's keypress on an escalation call."""
    return f"{config.link_base}/webhooks/twilio/voice?ticket={ticket_id}&ack=1"


def alert(spoken: str, ticket_id: int, config: Config) -> VoiceResponse:
    """Read the escalation inside <Gather numDigits="1">: 1 acknowledges it."""
    return _gather(spoken, alert_url(ticket_id, config), ALERT_NO_ANSWER)

