"""The email channel: one message a connection through smtplib, errors mapped to SendError."""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from app.config import Config
from app.messaging.channels import SendError, Sent
from app.messaging.smtp_url import SmtpSettings
from app.models import Message

TIMEOUT_SECONDS = 10.0
SUBJECT_PREFIX = "Fixline: "
SUBJECT_WORDS = 70  # characters of the first sentence kept in the subject


def subject(body: str) -> str:
    """"Fixline: " and the message's first sentence, shortened to fit a mail client's list."""
    first = re.split(r"(?<=[.!?])\s", " ".join(body.split()), maxsplit=1)[0]
    if len(first) > SUBJECT_WORDS:
        first = first[:SUBJECT_WORDS - 3].rstrip() + "..."
    return SUBJECT_PREFIX + (first or "notification")


def compose(message: Message, config: Config) -> EmailMessage:
    """The email for message: From MAIL_FROM, To its address, the body as plain text."""
    mail = EmailMessage()
    mail["From"] = config.mail_from
    mail["To"] = message.to_number
    mail["Subject"] = subject(message.body)
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(config.mail_from)[1].rpartition("@")[2] or None
    mail["Message-ID"] = make_msgid("fixline", domain=domain)
    mail.set_content(message.body)
    return mail


class SmtpChannel:
    """Carries email messages to the server SMTP_URL names."""

    name = "smtp"
    remote = True

    def send(self, message: Message, config: Config) -> Sent:
        server = config.smtp
        if server is None:
            raise SendError("SMTP_URL is not set", retryable=False)
        try:
            mail = compose(message, config)
        except ValueError as exc:  # an address or text no email header can carry
            raise SendError(f"not an email: {exc}", retryable=False) from exc
        try:
            with connect(server) as smtp:
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise refused_recipient(exc) from exc
        except smtplib.SMTPNotSupportedError as exc:  # STARTTLS or AUTH not offered
            raise SendError(f"SMTP server lacks a required feature: {exc}",
                            retryable=False) from exc
        except smtplib.SMTPResponseException as exc:  # sender, data, auth or greeting refused
            raise SendError(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}",
                            retryable=400 <= exc.smtp_code < 500) from exc
        except ssl.SSLCertVerificationError as exc:
            raise SendError(f"SMTP server certificate rejected: {exc.verify_message}",
                            retryable=False) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timed out, TLS
            raise SendError(f"SMTP server unreachable: {type(exc).__name__}") from exc
        return Sent(provider_id=mail["Message-ID"], status="sent")


def connect(server: SmtpSettings) -> smtplib.SMTP:
    """An open, protected (as SMTP_URL says) and logged-in connection."""
    context = ssl.create_default_context()
    if server.security == "tls":
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT_SECONDS,
                                context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
    try:
        smtp.ehlo()
        wants_tls = server.security == "starttls" or (
            server.security == "auto" and smtp.has_extn("starttls"))
        if wants_tls:
            smtp.starttls(context=context)  # SMTPNotSupportedError when not offered
            smtp.ehlo()
        if server.username:
            smtp.login(server.username, server.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def refused_recipient(exc: smtplib.SMTPRecipientsRefused) -> SendError:
    """Retried only when every refusal was temporary (4xx, e.g. greylisting)."""
    answers = list(exc.recipients.values())
    detail = "; ".join(f"{code} {_text(text)}" for code, text in answers)
    temporary = bool(answers) and all(400 <= code < 500 for code, _ in answers)
    return SendError(f"SMTP recipient refused: {detail}", retryable=temporary)


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
