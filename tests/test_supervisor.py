"""The supervisor restarts a child that dies, with backoff, and gives up on one that cannot start.

Its children here are tiny Python processes, so these run in a few seconds; the stack itself,
killed child by child during a burst of tickets, is tests/integration/test_restarts.py.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time

import pytest

from app import supervisor as sup
from app.config import Config
from tests.test_make_run import alive, proc_stat

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
CRASHER = [sys.executable, "-c", "import sys; sys.exit(3)"]


@pytest.fixture
def supervisor(tmp_path, monkeypatch):
    """A Supervisor with quick backoff whose children are stopped after the test."""
    monkeypatch.setattr(sup, "FIRST_RESTART_DELAY", 0.05)
    monkeypatch.setattr(sup, "MAX_RESTART_DELAY", 0.2)
    monkeypatch.setattr(sup, "POLL_SECONDS", 0.02)
    running = sup.Supervisor(Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path / "inst")}))
    yield running
    running.stop_all()


class Watching:
    """supervisor.watch() in a thread; stop() sends it the stop signal and returns its code."""

    def __init__(self, supervisor: sup.Supervisor) -> None:
        self.supervisor, self.code = supervisor, None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.code = self.supervisor.watch()

    def stop(self) -> int | None:
        self.supervisor.on_signal(signal.SIGTERM, None)
        self.thread.join(10)
        return self.code


def pid_of(supervisor: sup.Supervisor, name: str) -> int | None:
    """The pid of the living child called name (None between its death and restart)."""
    return next((c.proc.pid for c in supervisor.children if c.name == name), None)


def wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "not within the timeout"
        time.sleep(0.02)
    return result


def test_a_killed_child_is_started_again_and_the_others_keep_running(supervisor, capsys):
    supervisor.spawn("worker", SLEEPER)
    supervisor.spawn("scheduler", SLEEPER)
    first, other = pid_of(supervisor, "worker"), pid_of(supervisor, "scheduler")
    watching = Watching(supervisor)
    try:
        os.kill(first, signal.SIGKILL)
        second = wait_for(lambda: (pid := pid_of(supervisor, "worker")) not in (first, None)
                          and pid)
        # Checked while the watching thread lives: the restarted child's parent-death signal
        # follows the thread that started it (here not the main thread, as under `make run`).
        start = wait_for(lambda: proc_stat(second))[2]
        assert alive(second, start) and supervisor.children[-1].proc.args == SLEEPER
    finally:
        assert watching.stop() == 0
    assert pid_of(supervisor, "scheduler") == other
    err = capsys.readouterr().err
    assert f"worker (pid {first}) exited unexpectedly with code -9; restarting it in" in err
    assert f"worker restarted (pid {second})" in err
    supervisor.stop_all()
    assert not alive(second, start)


def test_a_child_that_keeps_dying_at_start_stops_everything(supervisor, capsys):
    supervisor.spawn("web", SLEEPER)
    supervisor.spawn("scheduler", CRASHER)
    web = pid_of(supervisor, "web")
    watching = Watching(supervisor)
    watching.thread.join(30)
    assert watching.code == 1
    err = capsys.readouterr().err
    assert err.count("fixline: scheduler restarted") == sup.MAX_FAILED_STARTS - 1
    assert (f"exited with code 3; it died within {sup.STARTED_SECONDS:g} s of starting "
            f"{sup.MAX_FAILED_STARTS} times in a row, so stopping everything") in err
    delays = [float(d) for d in re.findall(r"restarting it in ([\d.]+) s", err)]
    assert delays == sorted(delays) and delays[-1] == sup.MAX_RESTART_DELAY  # doubling, capped
    start = proc_stat(web)[2]
    supervisor.stop_all()
    assert not alive(web, start)


def test_a_child_that_ran_a_while_starts_its_count_afresh(supervisor, monkeypatch, capsys):
    monkeypatch.setattr(sup, "STARTED_SECONDS", 0.3)
    supervisor.failed_starts["worker"] = sup.MAX_FAILED_STARTS - 1  # one more and it gives up
    supervisor.spawn("worker", [sys.executable, "-c", "import time; time.sleep(0.6)"])
    watching = Watching(supervisor)
    try:
        wait_for(lambda: "worker restarted" in (err := capsys.readouterr().err) and err)
    finally:
        assert watching.stop() == 0
    assert supervisor.failed_starts["worker"] == 0


@pytest.mark.parametrize("demo, shown", [
    (None, True),  # make run: FIXLINE_DEMO defaults to 1 for the web processes
    ("0", False),
])
def test_the_banner_names_the_simulator_when_the_web_processes_run_it(
        tmp_path, monkeypatch, demo, shown):
    if demo is None:
        monkeypatch.delenv("FIXLINE_DEMO", raising=False)
    else:
        monkeypatch.setenv("FIXLINE_DEMO", demo)
    running = sup.Supervisor(Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path)}))
    simulator = Config.from_env(running.env).demo
    text = sup.banner(running.config, "fx_key", [("Alice", "tok")], simulator)
    assert ("Vendor phones: http://127.0.0.1:8000/simulator/" in text) is shown
    assert "Demo login:" in text


def test_a_production_banner_never_names_the_simulator():
    config = Config.from_env({"FIXLINE_ENV": "production", "SECRET_KEY": "s",
                              "PUBLIC_BASE_URL": "https://fixline.example",
                              "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t",
                              "TWILIO_FROM_NUMBER": "+15005550006"})
    text = sup.banner(config, None, [], simulator=True)
    assert "simulator" not in text and "https://fixline.example/" in text
