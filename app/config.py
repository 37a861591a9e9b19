"""One Config, read from the environment (CONTRACT.md §2)."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, replace
from email.utils import parseaddr
from pathlib import Path

from app import phones
from app.messaging import smtp_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"


class ConfigError(RuntimeError):
    """The environment does not describe a runnable Fixline."""


def private_dir(path: Path) -> Path:
    """Create path 0700, or take group and other access away from one this process owns.

    A shared directory (sticky bit, like /tmp) or someone else's is left as it is.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.getuid() and not info.st_mode & 0o1000 and info.st_mode & 0o077:
        os.chmod(path, info.st_mode & 0o700)
    return path


def _instance_secret(instance: Path, name: str, nbytes: int = 32) -> str:
    """Read a secret from instance/, generating it on first use (development only)."""
    private_dir(instance)
    path = instance / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        value = secrets.token_hex(nbytes)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(value)
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # first writer wins; others read its value
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        return path.read_text().strip()


OFF_WORDS = ("0", "false", "no", "off")


def switched_on(raw: str | None, default: str = "1") -> bool:
    """An on/off setting as written (unset or empty: default): 0, false, no or off is off."""
    return (raw or default).strip().lower() not in OFF_WORDS


@dataclass(frozen=True)
class Config:
    """Every setting Fixline reads, with the defaults of CONTRACT.md §2."""

    env: str = "development"
    instance_path: Path = DEFAULT_INSTANCE
    database_url: str = ""
    database_prepare: bool = True  # PostgreSQL: hot statements prepared on the server (prepared)
    redis_url: str | None = None
    secret_key: str = ""
    public_base_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str = ""  # as configured; empty in development without Twilio
    dev_webhook_token: str = ""  # generated into instance/ when no token is configured
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None  # SMS through a Messaging Service instead
    twilio_api_base: str | None = None  # tests point the SDK at a local server
    vendor_reply_timeout: int = 30
    emergency_idle_escalation: int = 300
    routine_booking_escalation: int = 7200
    demo: bool = False
    port: int = 8000
    host: str = "127.0.0.1"
    max_body_bytes: int = 1 << 20
    session_idle_seconds: int = 8 * 3600  # a dashboard session unused this long ends
    metrics_token: str | None = None  # bearer token for /metrics
    sms_hourly_limit: int = 200  # /api/notify + manual pings per landlord an hour (§14)
    visit_reminders: tuple[int, ...] = (86400, 3600)  # seconds before a visit (§9)
    no_show_grace: int = 3600  # after a visit's end, ask the tenant whether the vendor came
    reopen_window: int = 604800  # how long after completion NOT FIXED reopens a ticket
    round_pause: int = 300  # §10: between rounds of asking (an emergency waits a fifth)
    dispatch_rounds: int = 3  # rounds of asking in all
    landlord_quiet_hours: tuple[int, int] | None = (21 * 60, 8 * 60)  # local minutes; None: none
    default_phone_region: str = "US"  # a number written without + is read as one of here
    log_format: str = "text"  # text | json (one JSON object a line)
    slow_query_ms: int = 100  # statements slower than this are logged with their SQL shape
    smtp_url: str | None = None  # email goes out by SMTP when set (app/messaging/smtp_url.py)
    mail_from: str = "Fixline <fixline@localhost>"  # the From of every email
    testing: bool = False

    def __post_init__(self) -> None:
        if self.production and self.demo:  # CONTRACT.md §14: whatever FIXLINE_DEMO says
            object.__setattr__(self, "demo", False)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def twilio_enabled(self) -> bool:
        """Messages go out through Twilio only with both SID and token set."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def smtp(self) -> smtp_url.SmtpSettings | None:
        """The mail server SMTP_URL names, or None (email stays in the outbox)."""
        return smtp_url.parse(self.smtp_url) if self.smtp_url else None

    @property
    def webhook_auth_token(self) -> str:
        """The token inbound webhook signatures are checked against."""
        return self.twilio_auth_token or self.dev_webhook_token

    @property
    def embedded_redis_socket(self) -> Path:
        return self.instance_path / "redis.sock"

    @property
    def link_base(self) -> str:
        """Where links in messages point: PUBLIC_BASE_URL, else this host and port."""
        return self.public_base_url or f"http://{self.host}:{self.port}"

    @property
    def broker_url(self) -> str:
        """REDIS_URL, or the embedded Redis that `make run` starts under instance/."""
        return self.redis_url or f"unix://{self.embedded_redis_socket}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Config:
        """Build the configuration from environment variables, then apply overrides."""
        env = dict(os.environ if environ is None else environ)
        instance = Path(env.get("FIXLINE_INSTANCE_PATH", DEFAULT_INSTANCE))
        mode = env.get("FIXLINE_ENV", "development")
        production = mode == "production"

        missing = []
        if production:
            for name in ("SECRET_KEY", "PUBLIC_BASE_URL", "TWILIO_ACCOUNT_SID",
                         "TWILIO_AUTH_TOKEN"):
                if not env.get(name):
                    missing.append(name)
            if not (env.get("TWILIO_FROM_NUMBER") or env.get("TWILIO_MESSAGING_SERVICE_SID")):
                missing.append("TWILIO_FROM_NUMBER (or TWILIO_MESSAGING_SERVICE_SID)")
        if missing:
            raise ConfigError(
                "FIXLINE_ENV=production needs these environment variables: " + ", ".join(missing)
            )

        def seconds(name: str, default: int) -> int:
            raw = env.get(name)
            if raw in (None, ""):
                return default
            try:
                value = int(raw)
            except ValueError:
                raise ConfigError(
                    f"{name} must be a whole number of seconds, got {raw!r}"
                ) from None
            if value <= 0:
                raise ConfigError(f"{name} must be positive, got {value}")
            return value

        def offsets(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
            raw = env.get(name)
            if raw is None:
                return default
            try:
                found = tuple(sorted({int(part) for part in raw.split(",") if part.strip()},
                                     reverse=True))
            except ValueError:
                raise ConfigError(f"{name} must be whole seconds separated by commas, like "
                                  f"86400,3600; got {raw!r}") from None
            if any(value <= 0 for value in found):
                raise ConfigError(f"{name} must list positive numbers of seconds, got {raw!r}")
            return found

        def quiet(name: str) -> tuple[int, int] | None:
            raw = env.get(name)
            if raw is None:
                return (21 * 60, 8 * 60)
            if not raw.strip():
                return None
            found = re.fullmatch(r"\s*([01]?[0-9]|2[0-3]):([0-5][0-9])\s*-\s*"
                                 r"([01]?[0-9]|2[0-3]):([0-5][0-9])\s*", raw)
            if not found or found.groups()[:2] == found.groups()[2:]:
                raise ConfigError(f"{name} must be a span of the day like 21:00-08:00 (or empty "
                                  f"for none); got {raw!r}")
            hours = [int(part) for part in found.groups()]
            return hours[0] * 60 + hours[1], hours[2] * 60 + hours[3]

        try:
            port = int(env.get("PORT", "8000"))
        except ValueError:
            raise ConfigError(f"PORT must be a number, got {env.get('PORT')!r}") from None

        region = (env.get("DEFAULT_PHONE_REGION") or "US").strip().upper()
        if region not in phones.REGIONS:
            raise ConfigError(
                f"DEFAULT_PHONE_REGION must be a region code libphonenumber knows, like US or "
                f"GB; got {env.get('DEFAULT_PHONE_REGION')!r}"
            )

        log_format = (env.get("LOG_FORMAT") or "text").strip().lower()
        if log_format not in ("text", "json"):
            raise ConfigError(f"LOG_FORMAT must be text or json, got {env.get('LOG_FORMAT')!r}")
        raw_slow = (env.get("SLOW_QUERY_MS") or "100").strip()
        if not (raw_slow.isascii() and raw_slow.isdigit()):
            raise ConfigError("SLOW_QUERY_MS must be a whole number of milliseconds (0 logs "
                              f"every statement), got {env.get('SLOW_QUERY_MS')!r}")

        smtp = (env.get("SMTP_URL") or "").strip() or None
        if smtp is not None:
            try:
                smtp_url.parse(smtp)
            except ValueError as exc:
                raise ConfigError(f"SMTP_URL is not usable: {exc}") from None
        mail_from = (env.get("MAIL_FROM") or "").strip() or Config.mail_from
        if "@" not in parseaddr(mail_from)[1]:
            raise ConfigError("MAIL_FROM must be an email address, like "
                              f"'Fixline <fixline@example.com>'; got {env.get('MAIL_FROM')!r}")

        token = env.get("TWILIO_AUTH_TOKEN") or ""
        values = dict(
            env=mode,
            instance_path=instance,
            database_url=env.get("DATABASE_URL") or f"sqlite:///{instance / 'fixline.db'}",
            database_prepare=switched_on(env.get("DATABASE_PREPARE")),
            redis_url=env.get("REDIS_URL") or None,
            secret_key=env.get("SECRET_KEY") or "",
            public_base_url=(env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=token,
            twilio_from_number=env.get("TWILIO_FROM_NUMBER") or None,
            twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
            twilio_api_base=env.get("TWILIO_API_BASE") or None,
            vendor_reply_timeout=seconds("VENDOR_REPLY_TIMEOUT_SECONDS", 30),
            emergency_idle_escalation=seconds("EMERGENCY_IDLE_ESCALATION_SECONDS", 300),
            routine_booking_escalation=seconds("ROUTINE_BOOKING_ESCALATION_SECONDS", 7200),
            session_idle_seconds=seconds("SESSION_IDLE_SECONDS", 8 * 3600),
            metrics_token=env.get("METRICS_TOKEN") or None,
            sms_hourly_limit=seconds("SMS_HOURLY_LIMIT", 200),
            visit_reminders=offsets("VISIT_REMINDER_SECONDS", (86400, 3600)),
            no_show_grace=seconds("NO_SHOW_GRACE_SECONDS", 3600),
            reopen_window=seconds("REOPEN_WINDOW_SECONDS", 604800),
            round_pause=seconds("ROUND_PAUSE_SECONDS", 300),
            dispatch_rounds=seconds("DISPATCH_ROUNDS", 3),
            landlord_quiet_hours=quiet("LANDLORD_QUIET_HOURS"),
            default_phone_region=region,
            log_format=log_format,
            slow_query_ms=int(raw_slow),
            smtp_url=smtp,
            mail_from=mail_from,
            demo=env.get("FIXLINE_DEMO", "0") not in ("", "0", "false", "no"),
            port=port,
            host=env.get("HOST", "127.0.0.1"),
        )
        values.update(overrides)
        config = cls(**values)
        return config.with_dev_secrets()

    def with_dev_secrets(self) -> Config:
        """Fill SECRET_KEY and the webhook token from instance/ when not configured."""
        changes = {}
        if not self.secret_key:
            changes["secret_key"] = _instance_secret(self.instance_path, "secret_key")
        if not self.twilio_auth_token and not self.dev_webhook_token:
            changes["dev_webhook_token"] = _instance_secret(
                self.instance_path, "twilio_auth_token", 16
            )
        return replace(self, **changes) if changes else self
