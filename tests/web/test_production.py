"""FIXLINE_ENV=production runs no demo extra whatever FIXLINE_DEMO says, and every response
carries HSTS (CONTRACT.md §14)."""

from __future__ import annotations

import pytest

from app import HSTS, create_app
from app.config import Config
from app.models import Landlord
from tests.conftest import make_config

PRODUCTION = {"FIXLINE_ENV": "production", "FIXLINE_DEMO": "1", "SECRET_KEY": "s3cret",
              "PUBLIC_BASE_URL": "https://fixline.example", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
              "TWILIO_AUTH_TOKEN": "t" * 32, "TWILIO_FROM_NUMBER": "+15005550006"}


@pytest.fixture
def config(database_url, tmp_path) -> Config:
    """Production, with FIXLINE_DEMO=1 and demo=True both asking for the demo."""
    return Config.from_env({**PRODUCTION, "DATABASE_URL": database_url, "REDIS_URL": "stub://",
                            "FIXLINE_INSTANCE_PATH": str(tmp_path / "instance")},
                           testing=True, demo=True)


def test_production_config_never_has_the_demo(config):
    assert config.production and not config.demo


def test_no_simulator_in_production(other_client):
    assert other_client.get("/simulator/").status_code == 404  # logged in, and still none
    assert "simulator" not in other_client.application.blueprints


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/login", 200),
    ("GET", "/healthz", 200),
    ("GET", "/dashboard", 302),
    ("GET", "/no-such-page", 404),
    ("GET", "/api/tickets", 401),
    ("POST", "/webhooks/twilio/sms", 403),
    ("POST", "/login", 400),
])
def test_every_production_response_carries_hsts(client, method, path, status):
    answer = client.open(path, method=method)
    assert answer.status_code == status
    assert answer.headers["Strict-Transport-Security"] == HSTS


def test_development_sends_no_hsts(database_url, tmp_path):
    app = create_app(make_config(database_url, tmp_path / "dev"))
    answer = app.test_client().get("/login")
    assert answer.status_code == 200 and "Strict-Transport-Security" not in answer.headers


def test_the_demo_data_is_never_loaded_in_production(runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code != 0
    assert "never loads the demo data" in result.output
    assert not Landlord.select().exists()
