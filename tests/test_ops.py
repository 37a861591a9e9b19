"""Operations: request ids, access log, JSON errors, health and readiness (CONTRACT.md §8)."""

import logging
import os
import uuid

import pytest
import redis

from app import create_app
from app.config import Config
from app.readiness import HEARTBEAT_PREFIX
from tests.conftest import make_config

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_request_id_is_echoed_or_generated(client):
    given = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"
    made = client.get("/healthz").headers["X-Request-Id"]
    assert len(made) == 32 and made != "abc-123"


def test_access_log_line_has_status_duration_and_request_id(client, caplog):
    caplog.set_level(logging.INFO, logger="fixline.access")
    client.get("/healthz", headers={"X-Request-Id": "req-42"})
    lines = [r for r in caplog.records if r.name == "fixline.access"]
    assert len(lines) == 1
    assert "GET /healthz 200" in lines[0].getMessage() and "ms" in lines[0].getMessage()
    assert lines[0].request_id == "req-42"


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/api/nowhere", 404), ("PATCH", "/api/tickets", 405), ("DELETE", "/api/tickets", 405),
])
def test_api_errors_are_json(client, auth, method, path, status):
    response = client.open(path, method=method, headers=auth)
    assert response.status_code == status
    assert response.json["error"]["code"] and response.json["error"]["message"]


def test_prometheus_metrics(client):
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'fixline_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "fixline_http_request_duration_seconds_bucket" in text


def test_readyz_with_stub_broker_checks_database(client):
    assert client.get("/readyz").status_code == 200


def test_readyz_names_redis_when_down(database_url, tmp_path):
    config = make_config(database_url, tmp_path / "inst", redis_url="redis://127.0.0.1:1/0")
    app = create_app(config)
    with app.app_context():
        response = app.test_client().get("/readyz")
    assert response.status_code == 503 and "redis" in response.json["down"]
    create_app(make_config(database_url, tmp_path / "inst"))  # back to the stub broker


@pytest.mark.skipif(not TEST_REDIS_URL, reason="Redis server not configured: set TEST_REDIS_URL")
def test_readyz_needs_a_worker_heartbeat(database_url, tmp_path):
    config = make_config(database_url, tmp_path / "inst", redis_url=TEST_REDIS_URL)
    app = create_app(config)
    client = redis.Redis.from_url(TEST_REDIS_URL)
    for key in client.scan_iter(HEARTBEAT_PREFIX + "*"):
        client.delete(key)
    try:
        with app.app_context():
            down = app.test_client().get("/readyz")
            assert down.status_code == 503 and "worker" in down.json["down"]
            key = f"{HEARTBEAT_PREFIX}test:{uuid.uuid4().hex}"
            client.set(key, "1", ex=10)
            assert app.test_client().get("/readyz").status_code == 200
            client.delete(key)
    finally:
        client.close()
        create_app(make_config(database_url, tmp_path / "inst"))


def test_secret_link_tokens_never_reach_the_access_log(client, home, caplog):
    caplog.set_level(logging.INFO, logger="fixline.access")
    _, tenant = home
    token, guess, job = tenant.intake_token, uuid.uuid4().hex, uuid.uuid4().hex
    paths = [f"/intake/{token}", f"/intake/{token}/tickets/1?seen=2",
             f"/intake/{token}/tickets/1/photos/3", f"/intake/{guess}", f"/j/{job}",
             f"/j/{job}/accept"]
    for path in paths:
        client.get(path)
    client.post(f"/intake/{token}/check/category", data={"category": "plumbing"})
    logged = [r.getMessage() for r in caplog.records if r.name == "fixline.access"]
    assert len(logged) == len(paths) + 1
    assert not [line for line in logged if token in line or guess in line or job in line]
    assert any(line.startswith("GET /intake/<token> 200") for line in logged)
    assert any(line.startswith("GET /intake/<token>/tickets/1?seen=2 ") for line in logged)
    assert any(line.startswith("GET /j/<token>/accept ") for line in logged)
    assert any(line.startswith("POST /intake/<token>/check/category ") for line in logged)


@pytest.fixture
def production(app, database_url, tmp_path):
    """A production app on the test database; METRICS_TOKEN as given, or none."""
    made = []

    def build(**overrides):
        made.append(create_app(make_config(database_url, tmp_path / "prod", env="production",
                                           **overrides)))
        return made[-1].test_client()

    yield build
    if made:
        create_app(make_config(database_url, tmp_path / "inst"))  # back to the test app's binding


def scrape(client, address="127.0.0.1", **headers):
    return client.get("/metrics", environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_metrics_in_development_are_open_as_before(client):
    assert scrape(client, "203.0.113.9").status_code == 200


def test_metrics_in_production_without_a_token_answer_loopback_only(production):
    client = production()
    for address in ("127.0.0.1", "::1", "127.0.0.53"):
        assert scrape(client, address).status_code == 200, address
    for address in ("203.0.113.9", "10.0.0.2", "::ffff:198.51.100.1"):
        assert scrape(client, address).status_code == 404, address
    # through a reverse proxy on this machine: loopback, but not from here
    assert scrape(client, "127.0.0.1", **{"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    assert scrape(client, "127.0.0.1", Forwarded="for=203.0.113.9").status_code == 404


def test_metrics_in_production_with_a_token_need_it(production):
    client = production(metrics_token="m3trics-t0ken")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "m3trics-t0ken"}):
        for address in ("127.0.0.1", "203.0.113.9"):
            refused = scrape(client, address, **headers)
            assert refused.status_code == 401, (headers, address)
            assert refused.headers["WWW-Authenticate"].startswith("Bearer")
            assert b"fixline_http" not in refused.data
    answer = scrape(client, "203.0.113.9", Authorization="Bearer m3trics-t0ken")
    assert answer.status_code == 200 and b"fixline_http_requests_total" in answer.data


def test_metrics_token_is_read_from_the_environment(tmp_path):
    config = Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path), "METRICS_TOKEN": "abc"})
    assert config.metrics_token == "abc"
    assert Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path)}).metrics_token is None
