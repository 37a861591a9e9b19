"""Operations: request ids, access log, JSON errors, health and readiness (CONTRACT.md §8)."""

import logging
import os
import uuid

import pytest
import redis

from app import create_app
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
