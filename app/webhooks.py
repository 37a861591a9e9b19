"""Twilio's inbound webhooks: verify the signature, hand the request to the engine, answer TwiML."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, g, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from app.booking import alerts, answers
from app.bounds import positive_int
from app.config import Config
from app.messaging import media, receipts, replies

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks/twilio")


def _config() -> Config:
    return current_app.extensions["fixline"]


def signed_url(config: Config) -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path + query when set, else the request URL."""
    if config.public_base_url:
        query = request.query_string.decode()
        return config.public_base_url + request.path + (f"?{query}" if query else "")
    return request.url


@bp.before_request
def verify_signature() -> Response | None:
    """403 and no change unless X-Twilio-Signature matches the configured token.

    A signed request whose signature (or I-Twilio-Idempotency-Token) came lately with other
    parameters is a replay with shifted boundaries: 200, empty TwiML, nothing done.
    """
    config = _config()
    signature = request.headers.get("X-Twilio-Signature", "")
    validator = RequestValidator(config.webhook_auth_token)
    url = signed_url(config)
    if not signature or not validator.validate(url, request.form, signature):
        abort(403)
    keys = receipts.keys(signature, request.headers.get("I-Twilio-Idempotency-Token"))
    digest = receipts.digest(url, request.form.items(multi=True))
    if request.endpoint == "webhooks.sms":  # admitted in the SMS's own transaction: sms()
        g.receipt = (keys, digest)
        return None
    if not receipts.admit(keys, digest):
        return _replayed()
    return None


def _replayed() -> Response:
    current_app.logger.warning("a signed webhook replayed with other parameters: ignored")
    return _twiml(MessagingResponse())


def _twiml(document) -> Response:
    return Response(str(document), mimetype="text/xml")


@bp.post("/sms")
def sms():
    """An SMS from a vendor, tenant or landlord: the words of CONTRACT.md §7 and §9 (MMS
    photos sent with DONE are fetched afterwards), STOP/START/HELP, ACK."""
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid or not form.get("From"):
        abort(400, "MessageSid and From are required")
    keys, digest = g.receipt
    try:
        text = answers.on_sms(sid=sid, from_number=form["From"], to_number=form.get("To", ""),
                              body=form.get("Body", ""), config=_config(),
                              media=media.media_urls(form, _config()),
                              admit=lambda: receipts.admit(keys, digest))
    except answers.Replayed:
        return _replayed()
    reply = MessagingResponse()
    if text:
        reply.message(text)
    return _twiml(reply)


@bp.post("/voice")
def voice():
    """A vendor's keypress on an offer call (1 accepts, 2 declines), a landlord's on an
    escalation call (?ticket=…&ack=1: 1 acknowledges), or any other call."""
    form = request.form
    ping_id = positive_int(request.args.get("ping"))
    call_sid = form.get("CallSid", "")
    response = VoiceResponse()
    alert_of = positive_int(request.args.get("ticket")) if request.args.get("ack") == "1" else None
    if alert_of is not None and call_sid:
        alerts.on_call(response, ticket_id=alert_of, call_sid=call_sid,
                       digits=form.get("Digits"), config=_config())
        return _twiml(response)
    if ping_id is None or not call_sid:
        response.say("This is Fixline. Jobs are offered by text message or by our calls.")
        return _twiml(response)
    digits = form.get("Digits")
    if digits is None:  # the call is asking what to play: offer the job again
        answers.offer_gather(response, ping_id, _config())
        return _twiml(response)
    if replies.parse_digits(digits).kind == "unknown":  # another key: ask again
        response.say(answers.WRONG_KEY)
        answers.offer_gather(response, ping_id, _config())
        return _twiml(response)
    response.say(answers.on_keypress(call_sid=call_sid, ping_id=ping_id, digits=digits,
                                     config=_config()))
    return _twiml(response)


@bp.post("/status")
def status():
    """Delivery status of a message or call we sent."""
    form = request.form
    sid = form.get("MessageSid") or form.get("CallSid") or form.get("SmsSid")
    state = form.get("MessageStatus") or form.get("CallStatus") or form.get("SmsStatus")
    if not sid or not state:
        abort(400, "a MessageSid/CallSid and its status are required")
    answers.on_status(sid=sid, status=state, error_code=form.get("ErrorCode"), config=_config())
    return Response("", status=200)
