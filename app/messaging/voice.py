"""Voice offers: the TwiML a vendor hears, with a one-digit Gather that posts the answer back."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from app.config import Config

NO_ANSWER = "We did not get an answer. Goodbye."


def action_url(ping_id: int, config: Config) -> str:
    """Where Twilio posts the keypress (absolute: inline TwiML has no base URL)."""
    return f"{config.link_base}/webhooks/twilio/voice?ping={ping_id}"


def offer(spoken: str, ping_id: int, config: Config) -> VoiceResponse:
    """Read the offer inside <Gather numDigits="1">: 1 accepts, 2 declines."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=action_url(ping_id, config), method="POST",
                             timeout=10)
    gather.say(spoken)
    response.say(NO_ANSWER)
    return response
