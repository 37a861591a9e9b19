"""The Procfile runs what `make run` runs: the same web, worker and scheduler command lines."""

from __future__ import annotations

import re
import subprocess

from app import supervisor as sup
from app.config import ROOT, Config


def procfile() -> dict[str, str]:
    """Process type → command line, as Procfile runners (honcho, foreman, Heroku) read it."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(re.fullmatch(r"([\w-]+):\s*(.+)", line).groups() for line in lines if line)


def words(command: str, **env: str) -> list[str]:
    """The words sh makes of command under env (runners hand each line to a shell)."""
    script = f"set -- {command}; printf '%s\\0' \"$@\""
    out = subprocess.run(["sh", "-c", script], env=env, capture_output=True, check=True).stdout
    return out.decode().split("\0")[:-1]


def supervised(tmp_path, monkeypatch) -> tuple[sup.Supervisor, dict[str, list[str]]]:
    """A supervisor on PORT 8123 and the argv of each service it starts."""
    started: dict[str, list[str]] = {}
    monkeypatch.setattr(sup.Supervisor, "spawn",
                        lambda self, name, args: started.update({name: args}))
    monkeypatch.setattr(sup.Supervisor, "wait_until", lambda self, *args, **kwargs: True)
    supervisor = sup.Supervisor(Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path),
                                                 "PORT": "8123"}))
    supervisor.start_services()
    return supervisor, started


def test_the_procfile_starts_what_make_run_starts(tmp_path, monkeypatch):
    commands = procfile()
    supervisor, started = supervised(tmp_path, monkeypatch)
    assert set(commands) == set(started) == {"web", "worker", "webhooks", "scheduler"}
    for name, argv in started.items():
        found = words(commands[name], HOST="127.0.0.1", PORT="8123")
        python = found.index("python")
        assert found[python + 1:] == argv[1:], name
        for assignment in found[:python]:  # the environment make run gives its children
            variable, value = assignment.split("=", 1)
            assert supervisor.env[variable] == value, name


def test_the_web_listens_on_every_interface_unless_told():
    assert "0.0.0.0:8000" in words(procfile()["web"])
    assert "10.0.0.5:5000" in words(procfile()["web"], HOST="10.0.0.5", PORT="5000")


def test_every_actor_has_a_worker_and_webhooks_have_their_own():
    """A queue no process consumes would strand its messages; a slow webhook receiver must not
    hold the threads of the booking loop's worker."""
    import dramatiq

    import actors.tasks  # noqa: F401  (declares the actors)
    from app.queues import MAIN_QUEUES, WEBHOOK_QUEUES

    queues = {actor.queue_name for actor in dramatiq.get_broker().actors.values()}
    assert queues <= set(MAIN_QUEUES) | set(WEBHOOK_QUEUES), queues
    assert not set(MAIN_QUEUES) & set(WEBHOOK_QUEUES)
    assert dramatiq.get_broker().get_actor("deliver_webhook").queue_name in WEBHOOK_QUEUES
