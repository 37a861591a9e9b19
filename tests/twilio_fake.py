"""A local HTTP server speaking the slice of Twilio's REST API that Fixline uses."""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

ACCOUNT_SID = "AC" + "5ca1ab1e" * 4
AUTH_TOKEN = "f1c7" * 8
API = "/2010-04-01"
RESOURCE = re.compile(rf"^{API}/Accounts/(?P<account>[^/]+)/(?P<kind>Messages|Calls)\.json$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MEDIA = re.compile(
    rf"^{API}/Accounts/(?P<account>[^/]+)/Messages/MM[0-9a-f]+/Media/(?P<id>ME[0-9a-f]+)$")
CDN = re.compile(r"^/cdn/(?P<id>ME[0-9a-f]+)$")  # where MEDIA redirects: no credentials needed


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    form: dict[str, str]
    auth: tuple[str, str] | None
    status: int  # what the fake answered


@dataclass
class FakeTwilio:
    """Twilio's Messages and Calls resources, with recorded requests and injected failures."""

    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    requests: list[Recorded] = field(default_factory=list)
    created: list[dict] = field(default_factory=list)
    unsubscribed: set[str] = field(default_factory=set)  # numbers that texted STOP: 21610
    media: dict[str, tuple[bytes, str, bool]] = field(default_factory=dict)  # id: body, type, sized
    cdn_authorization: list[str | None] = field(default_factory=list)  # each CDN hit's header

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[tuple[int, int, str]] = []
        self._stalls: list[float] = []
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def settings(self, from_number: str = "+15005550006") -> dict[str, str]:
        """Config overrides that send Fixline's Twilio traffic to this fake."""
        return {"twilio_account_sid": self.account_sid, "twilio_auth_token": self.auth_token,
                "twilio_from_number": from_number, "twilio_api_base": self.base_url}

    def fail_next(self, count: int, status: int = 500, code: int | None = None,
                  message: str = "Internal Server Error") -> None:
        """Answer the next count requests with this Twilio error instead of handling them."""
        with self._lock:
            self._failures.extend([(status, code or 20000 + status, message)] * count)

    def stall_next(self, seconds: float) -> None:
        """Hold the next request this long (or until the server stops) before answering."""
        with self._lock:
            self._stalls.append(seconds)

    def add_media(self, body: bytes, content_type: str = "image/jpeg", *,
                  sized: bool = True) -> str:
        """Serve body as an MMS photo; its MediaUrl (sized=False: no Content-Length)."""
        media_id = "ME" + secrets.token_hex(16)
        with self._lock:
            self.media[media_id] = (body, content_type, sized)
        message = "MM" + secrets.token_hex(16)
        return (f"{self.base_url}{API}/Accounts/{self.account_sid}/Messages/{message}"
                f"/Media/{media_id}")

    def start(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="fake-twilio", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()  # joins the handler threads
        self._thread.join()

    def answer(self, method: str, path: str, form: dict[str, str],
               auth: tuple[str, str] | None) -> tuple[int, dict]:
        """Twilio's status and JSON for one request; every request is recorded."""
        with self._lock:
            stall = self._stalls.pop(0) if self._stalls else 0.0
            failure = self._failures.pop(0) if self._failures else None
        if stall:
            self._release.wait(stall)
        status, body = self._route(method, path, form, auth, failure)
        with self._lock:
            self.requests.append(Recorded(method, path, form, auth, status))
            if status == 201:
                self.created.append(body)
        return status, body

    def fetch(self, path: str, auth: tuple[str, str] | None,
              authorization: str | None) -> tuple[int, dict[str, str], bytes]:
        """A media GET: the API redirects to the CDN path, which serves the bytes unchecked.

        Recorded like every request; fail_next and stall_next apply to it too.
        """
        with self._lock:
            stall = self._stalls.pop(0) if self._stalls else 0.0
            failure = self._failures.pop(0) if self._failures else None
        if stall:
            self._release.wait(stall)
        status, headers, body = self._media(path, auth, authorization, failure)
        with self._lock:
            self.requests.append(Recorded("GET", path, {}, auth, status))
        return status, headers, body

    def _media(self, path, auth, authorization, failure) -> tuple[int, dict[str, str], bytes]:
        if failure:
            return _json(*error(*failure))
        if cdn := CDN.match(path):
            with self._lock:
                self.cdn_authorization.append(authorization)
            if cdn["id"] not in self.media:
                return _json(*error(404, 20404, f"The requested resource {path} was not found"))
            body, content_type, sized = self.media[cdn["id"]]
            headers = {"Content-Type": content_type}
            if sized:
                headers["Content-Length"] = str(len(body))
            return 200, headers, body
        if auth != (self.account_sid, self.auth_token):
            return _json(*error(401, 20003, "Authenticate"))
        match = MEDIA.match(path)
        if match["account"] != self.account_sid or match["id"] not in self.media:
            return _json(*error(404, 20404, f"The requested resource {path} was not found"))
        return 307, {"Location": f"{self.base_url}/cdn/{match['id']}"}, b""

    def _route(self, method, path, form, auth, failure) -> tuple[int, dict]:
        if failure:
            return error(*failure)
        if auth != (self.account_sid, self.auth_token):
            return error(401, 20003, "Authenticate")
        match = RESOURCE.match(path)
        if not match or match["account"] != self.account_sid:
            return error(404, 20404, f"The requested resource {path} was not found")
        if method != "POST":
            return error(405, 20004, "Method not allowed")
        check = _check_message if match["kind"] == "Messages" else _check_call
        problem = check(form, self.unsubscribed)
        if problem:
            return error(400, *problem)
        return 201, self._resource(match["kind"], form)

    def _resource(self, kind: str, form: dict[str, str]) -> dict:
        prefix = "SM" if kind == "Messages" else "CA"
        sid = prefix + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC))
        base = f"{API}/Accounts/{self.account_sid}/{kind}/{sid}"
        resource = {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "sid": sid,
            "date_created": now, "date_updated": now, "direction": "outbound-api",
            "from": form.get("From"), "to": form["To"], "status": "queued",
            "price": None, "price_unit": "USD", "uri": base + ".json",
        }
        if kind == "Messages":
            resource.update(body=form.get("Body", ""), num_segments="1", num_media="0",
                            error_code=None, error_message=None, date_sent=None,
                            messaging_service_sid=form.get("MessagingServiceSid"),
                            subresource_uris={"media": base + "/Media.json"})
        else:
            resource.update(start_time=None, end_time=None, duration=None, answered_by=None,
                            parent_call_sid=None, queue_time="0",
                            subresource_uris={"recordings": base + "/Recordings.json"})
        return resource


def error(status: int, code: int, message: str) -> tuple[int, dict]:
    """Twilio's JSON error body."""
    return status, {"code": code, "message": message, "status": status,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def _json(status: int, body: dict) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def _check_message(form: dict[str, str], unsubscribed: set[str]) -> tuple[int, str] | None:
    if not form.get("To"):
        return 21604, "A 'To' phone number is required."
    if not (form.get("From") or form.get("MessagingServiceSid")):
        return 21603, "A 'From' phone number is required."
    if not (form.get("Body") or form.get("MediaUrl")):
        return 21602, "Message body is required."
    if not E164.match(form["To"]):
        return 21211, f"Invalid 'To' Phone Number: {form['To']}"
    if form["To"] in unsubscribed:
        return 21610, "Attempt to send to unsubscribed recipient"
    return None


def _check_call(form: dict[str, str], unsubscribed: set[str]) -> tuple[int, str] | None:
    if not form.get("To"):
        return 21201, "No 'To' number is specified"
    if not form.get("From"):
        return 21213, "No 'From' number is specified"
    if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
        return 21205, "Either a 'Url', 'Twiml' or 'ApplicationSid' parameter is required."
    if not E164.match(form["To"]):
        return 21211, f"Invalid 'To' Phone Number: {form['To']}"
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for every handler: nothing outlives a test
    fake: FakeTwilio


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        path = self.path.split("?")[0]
        if self.command == "GET" and (MEDIA.match(path) or CDN.match(path)):
            self._serve_media(path)
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        form = dict(parse_qsl(raw, keep_blank_values=True))
        status, body = self.server.fake.answer(self.command, self.path.split("?")[0], form,
                                               _basic_auth(self.headers.get("Authorization")))
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass

    def _serve_media(self, path: str) -> None:
        authorization = self.headers.get("Authorization")
        status, headers, body = self.server.fake.fetch(path, _basic_auth(authorization),
                                                       authorization)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if "Content-Length" not in headers:  # the body ends when the connection closes
                self.close_connection = True
            self.end_headers()
            for start in range(0, len(body), 1 << 16):
                self.wfile.write(body[start:start + (1 << 16)])
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading
            pass

    def log_message(self, format: str, *args) -> None:
        pass


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A FakeTwilio listening on 127.0.0.1 at a free port for one test."""
    fake = FakeTwilio()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
