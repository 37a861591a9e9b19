"""How soon open pages show "booked": a vendor's YES against 50 pages open in Chromium.

Starts the real stack twice as `make run` does (bench/time_to_book.py's helpers): once with the
change feed off (`LIVE_UPDATES=0`: the pages poll every 1-2 s, as before it) and once with it on
(the pages wait on `…/changes`). Each time it reports N emergency tickets (each offered to a
24/7 vendor, nobody answering yet), opens the tenant's status page of each and M landlord
dashboards in Chromium (Playwright, /usr/bin/chromium; at most 5 pages per browser context,
since Chromium holds at most 6 connections per host and context), counts every request the
pages make while nothing happens, then sends each ticket's YES (a signed SMS webhook, as
time_to_book.py's bot does) one at a time and measures, from the moment the webhook is sent
(the bench's wall clock) to the moment each open page's DOM shows the ticket booked (a
MutationObserver in the page stamping performance.timeOrigin + performance.now(), the same
machine's wall clock): the status page of that ticket and every dashboard.

    .venv/bin/python bench/feel.py                          # 25 status pages + 25 dashboards
    .venv/bin/python bench/feel.py --tickets 10 --dashboards 10 --modes live

See bench/README.md ("feel.py").
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from time_to_book import (  # noqa: E402  (bench/ is not a package)
    CONFIG_VARS,
    BenchError,
    Bot,
    Client,
    QuietSupervisor,
    ReadOnly,
    add_vendors,
    free_port,
    make_always_working,
    moment,
    percentile,
    release_database,
    wait_http,
    wait_workers,
)

from app.config import Config  # noqa: E402
from app.supervisor import prepare  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 # 50 tabs in one headless browser: none is "in the background" (throttled)
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]
PAGES_PER_CONTEXT = 5  # Chromium: 6 connections per host and profile; one stays free
PASSWORD = "bench-feel-password"
# Pending offers already in the outbox, by ticket: what the vendor's phone shows.
OFFERS_SQL = """
    SELECT p.ticket_id, m.to_number, m.body FROM ping p JOIN message m ON m.ping_id = p.id
    WHERE p.outcome = 'pending' AND m.direction = 'outbound' AND m.status = 'stored'
      AND p.ticket_id IN ({ids})
"""
BOOKED_AT_SQL = "SELECT id, booked_at FROM ticket WHERE id IN ({ids})"

# Installed in every page once loaded: stamps the first moment each watched ticket shows
# booked. A status page: #ticket-status[data-state=booked]; a dashboard: the ticket's row in
# the scheduled group. Runs through CDP (Playwright's evaluate), not a page script.
OBSERVER_JS = """
([kind, ids]) => {
  window.__booked = {};
  const shows = (id) => {
    if (kind === "status") {
      const card = document.getElementById("ticket-status");
      return card !== null && card.dataset.state === "booked";
    }
    const link = document.getElementById("ticket-link-" + id);
    const row = link && link.closest("tr");
    return row !== null && row !== undefined && row.classList.contains("ticket-row-scheduled");
  };
  const look = () => {
    const at = performance.timeOrigin + performance.now();
    for (const id of ids) {
      if (!(id in window.__booked) && shows(id)) window.__booked[id] = at;
    }
  };
  look();
  // when each answer that htmx is about to swap arrived: splits server from browser time
  window.__answers = [];
  document.body.addEventListener("htmx:beforeSwap",
    () => window.__answers.push(performance.timeOrigin + performance.now()));
  new MutationObserver(look).observe(document.body,
    {subtree: true, childList: true, attributes: true, attributeFilter: ["class", "data-state"]});
}
"""


@dataclass
class Run:
    mode: str
    status_ms: list[float] = field(default_factory=list)  # send → status page shows booked
    dashboard_ms: list[float] = field(default_factory=list)  # send → a dashboard shows it
    commit_ms: list[float] = field(default_factory=list)  # send → booked_at (server)
    answer_ms: list[float] = field(default_factory=list)  # send → the answer swapped in arrived
    swap_ms: list[float] = field(default_factory=list)  # that answer arrived → the page shows
    idle_rate: float = 0.0  # requests per open page per minute while nothing happens
    busy_rate: float = 0.0  # the same while the YESes are sent
    idle_by_path: dict[str, float] = field(default_factory=dict)
    missed: int = 0  # pages that never showed a booking within --page-timeout
    pages: int = 0


def set_password(email: str) -> None:
    """The demo landlord's dashboard password (cheap hash: the bench logs in 10 times)."""
    from werkzeug.security import generate_password_hash

    from app.db import db
    from app.models import Landlord

    with db.connection_context():
        Landlord.update(password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")) \
            .where(Landlord.email == email).execute()


class Requests:
    """Counts the requests the open pages make (Playwright's request events), by kind."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counting = False
        self.counts: dict[str, int] = {}

    def seen(self, request) -> None:
        if not self.counting:
            return
        path = request.url.split("?", 1)[0]
        kind = ("changes" if path.endswith("/changes")
                else "dashboard" if path.endswith("/dashboard")
                else "status" if "/tickets/" in path and "/intake/" in path else "other")
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def window(self, page, seconds: float) -> dict[str, int]:
        """Count for seconds. Playwright hands events over only while one of its calls runs,
        so this waits inside page.wait_for_timeout, a second at a time."""
        page.wait_for_timeout(200)  # events from before the window are handed over first
        with self.lock:
            self.counts, self.counting = {}, True
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            page.wait_for_timeout(min(left, 1.0) * 1000)
        with self.lock:
            self.counting = False
            return dict(self.counts)


def open_pages(browser, base: str, statuses: list[str], dashboards: int, counter: Requests):
    """The status pages and dashboards, PAGES_PER_CONTEXT to a browser context; each page
    (kind, page)."""
    pages, contexts = [], []
    groups = [("status", statuses[i:i + PAGES_PER_CONTEXT])
              for i in range(0, len(statuses), PAGES_PER_CONTEXT)]
    groups += [("dashboard", [f"{base}/dashboard"] * min(PAGES_PER_CONTEXT, dashboards - i))
               for i in range(0, dashboards, PAGES_PER_CONTEXT)]
    for kind, urls in groups:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        context.on("request", counter.seen)
        if kind == "dashboard":
            login = context.new_page()
            login.goto(f"{base}/login")
            login.get_by_label("Email").fill(EMAIL)
            login.get_by_label("Password").fill(PASSWORD)
            login.get_by_role("button", name="Log in").click()
            login.wait_for_url("**/dashboard")
            login.close()
        for url in urls:
            page = context.new_page()
            page.goto(url, wait_until="load")
            pages.append((kind, page))
    return pages, contexts


def stack_env(mode: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS + ("LIVE_UPDATES",)}
    env.update(FIXLINE_INSTANCE_PATH=str(tmp / "inst"), PORT=str(free_port()), FIXLINE_DEMO="0",
               VENDOR_REPLY_TIMEOUT_SECONDS="1800", EMERGENCY_IDLE_ESCALATION_SECONDS="7200",
               LANDLORD_QUIET_HOURS="", LIVE_UPDATES="1" if mode == "live" else "0")
    return env


EMAIL = "john.smith@example.com"


def run_mode(mode: str, args: argparse.Namespace, playwright) -> Run:
    tmp = Path(tempfile.mkdtemp(prefix=f"fixline-feel-{mode}-"))
    env = stack_env(mode, tmp)
    config = Config.from_env(env)
    result = Run(mode)
    log_path = tmp / "stack.log"
    with open(log_path, "ab") as log:
        supervisor = QuietSupervisor(config, env, log)
        try:
            with contextlib.redirect_stdout(sys.stderr):
                api_key, _ = prepare(config)
            add_vendors(args.tickets)
            set_password(EMAIL)
            release_database()
            if not supervisor.start_redis() or not supervisor.start_services():
                raise BenchError("interrupted")
            wait_http(config.port, "/readyz", 30)
            wait_workers(config.broker_url, 1, 30)
            measure(result, args, playwright, config, api_key)
        except BenchError as exc:
            raise BenchError(f"{mode}: {exc} (log: {log_path})") from None
        finally:
            supervisor.stop_all()
            if args.keep:
                print(f"[{mode}] kept {tmp}", file=sys.stderr)
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    return result


def measure(result: Run, args, playwright, config: Config, api_key: str) -> None:
    base = f"http://127.0.0.1:{config.port}"
    client = Client(config.port, api_key)
    db = ReadOnly(config.database_url)
    bot = Bot(db, client, config.webhook_auth_token, 0.01, ThreadPoolExecutor(max_workers=1))
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        make_always_working(client)
        tenants = client.api("GET", "/tenants")
        tickets = []
        for n in range(args.tickets):
            tenant = tenants[n % len(tenants)]
            made = client.api("POST", "/tickets", {
                "tenantId": tenant["id"], "propertyId": tenant["propertyId"],
                "category": "plumbing", "severity": "emergency", "window": "now",
                "description": f"bench ticket {n}"})
            tickets.append((made["id"], tenant["intakeUrl"]))
        ids = ",".join(str(ticket_id) for ticket_id, _ in tickets)
        offers: dict[int, tuple[str, str]] = {}
        deadline = time.monotonic() + 60
        while len(offers) < len(tickets):
            offers = {row[0]: (row[1], row[2]) for row in db.rows(OFFERS_SQL.format(ids=ids))}
            if time.monotonic() > deadline:
                raise BenchError(f"only {len(offers)} of {len(tickets)} offers reached the "
                                 "outbox within 60 s")
            time.sleep(0.1)
        statuses = [f"{base}{urllib.parse.urlsplit(link).path}/tickets/{ticket_id}"
                    for ticket_id, link in tickets]
        counter = Requests()
        pages, _contexts = open_pages(browser, base, statuses, args.dashboards, counter)
        result.pages = len(pages)
        watched = [ticket_id for ticket_id, _ in tickets]
        for index, (kind, page) in enumerate(pages):
            ids_here = [watched[index]] if kind == "status" else watched
            page.evaluate(OBSERVER_JS, [kind, ids_here])
        pages[0][1].wait_for_timeout(3000)  # every page has made its first poll or wait
        idle = counter.window(pages[0][1], args.idle_seconds)
        result.idle_rate = sum(idle.values()) / len(pages) / (args.idle_seconds / 60)
        result.idle_by_path = {k: v / len(pages) / (args.idle_seconds / 60)
                               for k, v in sorted(idle.items())}
        sent_at: dict[int, float] = {}
        counter.counts, counter.counting = {}, True
        busy_started = time.monotonic()
        rng = random.Random(7)
        for ticket_id in watched:
            to, body = offers[ticket_id]
            pages[0][1].wait_for_timeout(rng.uniform(300, 1300))  # no fixed phase vs polls
            sent_at[ticket_id] = time.time() * 1000
            bot.answer(to, body)
            if bot.errors:
                raise BenchError("YES webhook: " + "; ".join(bot.errors[:3]))
            wait_shown(pages, watched, ticket_id, args.page_timeout)
        pages[0][1].wait_for_timeout(200)  # the last requests' events are handed over
        busy_seconds = time.monotonic() - busy_started
        counter.counting = False
        result.busy_rate = sum(counter.counts.values()) / len(pages) / (busy_seconds / 60)
        for index, (kind, page) in enumerate(pages):
            stamps = page.evaluate("window.__booked")
            answers = sorted(page.evaluate("window.__answers"))
            mine = [watched[index]] if kind == "status" else watched
            for ticket_id in mine:
                shown = stamps.get(str(ticket_id))
                if shown is None:
                    result.missed += 1
                    state = page.evaluate(
                        "document.getElementById('ticket-status')?.dataset.state"
                        " || document.querySelector('#board h3')?.textContent")
                    print(f"  [{result.mode}] {kind} page {index} never showed ticket "
                          f"{ticket_id} booked (now: {state!r}, url {page.url})",
                          file=sys.stderr)
                    continue
                took = shown - sent_at[ticket_id]
                (result.status_ms if kind == "status" else result.dashboard_ms).append(took)
                arrived = [at for at in answers if sent_at[ticket_id] <= at <= shown]
                if arrived:
                    result.answer_ms.append(arrived[-1] - sent_at[ticket_id])
                    result.swap_ms.append(shown - arrived[-1])
        for ticket_id, booked_at in db.rows(BOOKED_AT_SQL.format(ids=ids)):
            if booked_at is not None:
                booked = moment(booked_at).replace(tzinfo=UTC).timestamp() * 1000
                result.commit_ms.append(booked - sent_at[ticket_id])
    finally:
        browser.close()
        bot.pool.shutdown(wait=False)
        client.close()
        db.close()


def wait_shown(pages, watched: list[int], ticket_id: int, timeout: float) -> None:
    """Until every page that shows ticket_id shows it booked (or timeout). Asks each page's
    stamps through evaluate (CDP): wait_for_function would need eval, which the CSP forbids."""
    index = watched.index(ticket_id)
    waiting = [page for n, (kind, page) in enumerate(pages)
               if kind == "dashboard" or n == index]
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        waiting = [page for page in waiting
                   if str(ticket_id) not in (page.evaluate("window.__booked || {}"))]
        if waiting:
            waiting[0].wait_for_timeout(100)


def pct(values: list[float], p: float) -> float:
    return percentile(values, p) if values else float("nan")


def line(name: str, values: list[float]) -> str:
    if not values:
        return f"  {name:<26} (none)"
    return (f"  {name:<26} n {len(values):4d}  p50 {percentile(values, 50):7.0f}  "
            f"p90 {percentile(values, 90):7.0f}  p99 {percentile(values, 99):7.0f}  "
            f"max {max(values):7.0f} ms")


def report(run: Run) -> str:
    both = run.status_ms + run.dashboard_ms
    kinds = ", ".join(f"{kind} {rate:.1f}" for kind, rate in run.idle_by_path.items())
    parts = [f"[{run.mode}] {run.pages} pages open; requests per open page per minute: "
             f"{run.idle_rate:.1f} idle ({kinds}), {run.busy_rate:.1f} while booking",
             line("YES sent → page shows", both),
             line("  status pages", run.status_ms),
             line("  dashboards", run.dashboard_ms),
             line("YES sent → booked (server)", run.commit_ms),
             line("YES sent → answer arrives", run.answer_ms),
             line("answer arrives → shows", run.swap_ms)]
    if run.missed:
        parts.append(f"  {run.missed} page(s) never showed their booking")
    return "\n".join(parts)


def table(runs: list[Run]) -> str:
    rows = ["| pages | p50 | p90 | p99 | max | status p90 | dashboard p90 | YES → booked p50 "
            "| requests/page/min idle | while booking |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for run in runs:
        both = run.status_ms + run.dashboard_ms
        if not both:
            continue
        rows.append(
            f"| {run.mode} | {percentile(both, 50):.0f} ms | **{percentile(both, 90):.0f} ms** "
            f"| {percentile(both, 99):.0f} ms | {max(both):.0f} ms "
            f"| {pct(run.status_ms, 90):.0f} ms | {pct(run.dashboard_ms, 90):.0f} ms "
            f"| {pct(run.commit_ms, 50):.0f} ms | {run.idle_rate:.1f} | {run.busy_rate:.1f} |")
    return "\n".join(rows)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=25,
                        help="tickets, each with its tenant's status page open (default 25)")
    parser.add_argument("--dashboards", type=int, default=25,
                        help="landlord dashboards open (default 25)")
    parser.add_argument("--modes", default="polling,live",
                        help="polling (LIVE_UPDATES=0), live, or both in order (default)")
    parser.add_argument("--idle-seconds", type=float, default=30,
                        help="how long requests are counted with nothing happening")
    parser.add_argument("--page-timeout", type=float, default=15,
                        help="how long every page may take to show one booking")
    parser.add_argument("--keep", action="store_true", help="keep the instance dirs and logs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from playwright.sync_api import sync_playwright

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                            capture_output=True).stdout.strip()
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"commit {commit}, load {load}, {os.cpu_count()} cores", flush=True)
    runs = []
    with sync_playwright() as playwright:
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            run = run_mode(mode, args, playwright)
            runs.append(run)
            print(report(run), flush=True)
            print(f"  load after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    print()
    print(table(runs))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        sys.exit(f"feel.py: {exc}")
