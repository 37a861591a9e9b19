"""Configuration from the environment (CONTRACT.md §2)."""

import pytest

from app.config import Config, ConfigError

PRODUCTION = {
    "FIXLINE_ENV": "production", "SECRET_KEY": "s3cret", "PUBLIC_BASE_URL": "https://fix.example/",
    "TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "tok", "TWILIO_FROM_NUMBER": "+15550001111",
}


def test_defaults(tmp_path):
    config = Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path)})
    assert config.port == 8000 and config.host == "127.0.0.1"
    assert config.database_url == f"sqlite:///{tmp_path / 'fixline.db'}"
    assert config.redis_url is None
    assert config.broker_url == f"unix://{tmp_path / 'redis.sock'}"
    assert (config.vendor_reply_timeout, config.emergency_idle_escalation,
            config.routine_booking_escalation) == (30, 300, 7200)
    assert not config.twilio_enabled and not config.demo and not config.production
    assert (config.round_pause, config.dispatch_rounds) == (300, 3)  # §10


def test_rounds_of_asking_are_read(tmp_path):
    config = Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path),
                              "ROUND_PAUSE_SECONDS": "120", "DISPATCH_ROUNDS": "5"})
    assert (config.round_pause, config.dispatch_rounds) == (120, 5)


def test_dev_secrets_are_generated_once(tmp_path):
    first = Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path)})
    second = Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path)})
    assert first.secret_key and first.secret_key == second.secret_key
    assert first.webhook_auth_token and first.webhook_auth_token == second.webhook_auth_token
    assert first.twilio_auth_token == ""  # generated webhook token never enables sending


@pytest.mark.parametrize("missing", sorted(PRODUCTION.keys() - {"FIXLINE_ENV"}))
def test_production_refuses_to_start_naming_what_is_missing(tmp_path, missing):
    environ = {k: v for k, v in PRODUCTION.items() if k != missing}
    environ["FIXLINE_INSTANCE_PATH"] = str(tmp_path)
    with pytest.raises(ConfigError, match=missing):
        Config.from_env(environ)


def test_production_with_everything(tmp_path):
    config = Config.from_env({**PRODUCTION, "FIXLINE_INSTANCE_PATH": str(tmp_path)})
    assert config.production and config.twilio_enabled
    assert config.public_base_url == "https://fix.example"
    assert config.webhook_auth_token == "tok"


@pytest.mark.parametrize("name", ["VENDOR_REPLY_TIMEOUT_SECONDS", "PORT",
                                  "EMERGENCY_IDLE_ESCALATION_SECONDS", "ROUND_PAUSE_SECONDS",
                                  "DISPATCH_ROUNDS"])
def test_bad_numbers_are_named(tmp_path, name):
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: "soon", "FIXLINE_INSTANCE_PATH": str(tmp_path)})


def test_overrides_and_twilio_switch(tmp_path):
    config = Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path), "TWILIO_ACCOUNT_SID": "AC1",
                              "TWILIO_AUTH_TOKEN": "t", "VENDOR_REPLY_TIMEOUT_SECONDS": "5",
                              "FIXLINE_DEMO": "1"}, port=9999)
    assert config.twilio_enabled and config.vendor_reply_timeout == 5
    assert config.demo and config.port == 9999
