"""`make run` (python -m app.supervisor): the stack starts, serves, restarts a child that dies,
and stops leaving nothing; in production without any demo extra."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG_VARS = ("REDIS_URL", "HOST", "FIXLINE_ENV", "FIXLINE_DEMO", "SECRET_KEY", "PUBLIC_BASE_URL",
               "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "TWILIO_API_BASE")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def supervisor_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test runner's environment minus Fixline settings, on a private instance and port."""
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env.update(FIXLINE_INSTANCE_PATH=str(tmp_path / "inst"), PORT=str(free_port()),
               DATABASE_URL=f"sqlite:///{tmp_path / 'fixline.db'}", PYTHONUNBUFFERED="1",
               LANDLORD_QUIET_HOURS="")  # a run at night must not hold landlord notices
    env.update(extra)
    return env


def run_supervisor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.supervisor"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def proc_stat(pid: int) -> tuple[str, int, str] | None:
    """(state, ppid, start time) of a process, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1]), fields[19]


def descendants(root: int) -> dict[int, tuple[str, str]]:
    """Every process below root: pid → (start time, command line)."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := proc_stat(int(entry.name))) is not None:
            children.setdefault(stat[1], []).append(int(entry.name))
            starts[int(entry.name)] = stat[2]
    found: dict[int, tuple[str, str]] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            cmdline = "?"
        found[pid] = (starts[pid], cmdline)
        todo += children.get(pid, [])
    return found


def alive(pid: int, start: str) -> bool:
    """The very process (same start time) still exists and is not a zombie."""
    stat = proc_stat(pid)
    return stat is not None and stat[2] == start and stat[0] != "Z"


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()
    except OSError:
        return 0, b""


class Stack:
    """A running supervisor whose merged output is collected by a reader thread."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "app.supervisor"], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if match := re.search(pattern, self.output):
                return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"no {pattern!r} in the supervisor's output:\n{self.output}")

    def close(self, leftovers: dict[int, tuple[str, str]]) -> None:
        """Make sure nothing is left running even when the test failed half-way."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid, (start, _) in leftovers.items():
            if alive(pid, start):
                os.kill(pid, signal.SIGKILL)
        self.reader.join(5)
        self.proc.stdout.close()


def wait_ready(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if get(base + "healthz")[0] == 200 and get(base + "readyz")[0] == 200:
            return
        time.sleep(0.25)
    status, body = get(base + "readyz")
    pytest.fail(f"/readyz not 200 within {timeout:.0f} s: {status} {body!r}")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "a child dies", "external Redis"])
def test_run_serves_the_stack_and_stops_it_entirely(tmp_path, how):
    external = os.environ.get("TEST_REDIS_URL") if how == "external Redis" else None
    if how == "external Redis" and not external:
        pytest.skip("no Redis server configured: set TEST_REDIS_URL to run this")
    env = supervisor_env(tmp_path, **({"REDIS_URL": external} if external else {}))
    port, sock = env["PORT"], tmp_path / "inst" / "redis.sock"
    stack = Stack(env)
    procs: dict[int, tuple[str, str]] = {}
    try:
        base = stack.wait_for(r"Dashboard:\s+(\S+)", 60)[1]
        assert base == f"http://127.0.0.1:{port}/"
        wait_ready(base)
        output = stack.output
        assert "john.smith@example.com / fixline-demo" in output
        links = re.findall(rf"http://127\.0\.0\.1:{port}/intake/[\w-]+", output)
        assert len(links) == 3, output
        key = re.search(r"Demo API key:\s+(\S+)", output)[1]
        status, body = get(base + "api/tickets", {"Authorization": f"Bearer {key}"})
        assert status == 200 and "items" in json.loads(body)
        assert get(base + "api/tickets", {"Authorization": "Bearer fx_wrong"})[0] == 401
        assert sock.exists() != bool(external)

        procs = descendants(stack.proc.pid)
        commands = " ".join(cmd for _, cmd in procs.values())
        for part in ("gunicorn", "dramatiq actors", "actors.scheduler"):
            assert part in commands, commands
        assert ("redis-server" in commands) != bool(external) and "6379" not in commands

        if how == "a child dies":  # it is started again, and the rest keep running
            victim = next(pid for pid, (_, cmd) in procs.items() if "actors.scheduler" in cmd)
            os.kill(victim, signal.SIGKILL)
            stack.wait_for(rf"fixline: scheduler \(pid {victim}\) exited unexpectedly with code "
                           r"-9; restarting it in [\d.]+ s", 10)
            again = int(stack.wait_for(r"fixline: scheduler restarted \(pid (\d+)\)", 10)[1])
            procs |= descendants(stack.proc.pid)
            assert "actors.scheduler" in procs[again][1] and alive(again, procs[again][0])
            assert stack.proc.poll() is None and "stopping everything" not in stack.output
            wait_ready(base)
        stack.proc.send_signal(signal.SIGINT if how == "SIGINT" else signal.SIGTERM)
        assert stack.proc.wait(20) == 0, stack.output
        survivors = [cmd for pid, (start, cmd) in procs.items() if alive(pid, start)]
        assert survivors == []
        assert not sock.exists()
        assert "Traceback" not in stack.output
    finally:
        stack.close(procs)


PRODUCTION = dict(FIXLINE_ENV="production", FIXLINE_DEMO="1", SECRET_KEY="not-a-demo-secret",
                  PUBLIC_BASE_URL="https://fixline.example", TWILIO_ACCOUNT_SID="AC" + "1" * 32,
                  TWILIO_AUTH_TOKEN="t" * 32, TWILIO_FROM_NUMBER="+15005550006",
                  TWILIO_API_BASE="http://127.0.0.1:9")  # nothing would leave the machine


def answer(url: str) -> tuple[int, dict[str, str]]:
    """(status, headers) of GET url."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers)


@pytest.mark.slow
def test_production_runs_no_demo_extras_whatever_fixline_demo_says(tmp_path):
    """No demo data, password, API key or simulator; HSTS on every answer (CONTRACT.md §14)."""
    env = supervisor_env(tmp_path, **PRODUCTION)
    stack = Stack(env)
    procs: dict[int, tuple[str, str]] = {}
    try:
        base = stack.wait_for(r"Dashboard:\s+(\S+)", 60)[1]
        wait_ready(base)
        procs = descendants(stack.proc.pid)
        stack.wait_for(r"Press Ctrl-C to stop", 5)
        for secret in ("fixline-demo", "john.smith", "API key", "/intake/", "Demo"):
            assert secret not in stack.output
        assert "https://fixline.example/" in stack.output
        with contextlib.closing(sqlite3.connect(tmp_path / "fixline.db")) as db:
            assert db.execute("SELECT count(*) FROM landlord").fetchone() == (0,)
            assert db.execute("SELECT count(*) FROM api_key").fetchone() == (0,)
        for path, status in (("simulator/", 404), ("login", 200), ("healthz", 200),
                             ("api/tickets", 401), ("no-such-page", 404)):
            got, headers = answer(base + path)
            assert got == status, path
            assert headers.get("Strict-Transport-Security", "").startswith("max-age="), path
        stack.proc.send_signal(signal.SIGTERM)
        assert stack.proc.wait(20) == 0, stack.output
        assert [cmd for pid, (start, cmd) in procs.items() if alive(pid, start)] == []
        assert "Traceback" not in stack.output
    finally:
        stack.close(procs)


def test_production_without_secrets_refuses_naming_what_is_missing(tmp_path):
    result = run_supervisor(supervisor_env(tmp_path, FIXLINE_ENV="production"))
    assert result.returncode != 0
    for name in ("SECRET_KEY", "PUBLIC_BASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
                 "TWILIO_FROM_NUMBER"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "fixline.db").exists()


def test_a_taken_port_fails_fast_naming_it(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_supervisor(supervisor_env(tmp_path, PORT=str(port)))
    assert result.returncode != 0
    assert f"port {port}" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "fixline.db").exists()
