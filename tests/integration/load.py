"""A booking load for a running stack: tickets opened through several web processes, every offer
answered by YES webhooks racing each other, and what the database says afterwards.

The load reads the stack's database directly (not through the API, whose per-landlord rate
limit a 300-ticket run would spend) to find offers and to count what was lost or doubled.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from twilio.request_validator import RequestValidator

from tests.integration.stack import OFFER_CODE, Stack, free_port, request, wait_until

CATEGORY = "appliance"  # no demo vendor does it: only the load's vendors are asked
ACTIVE = ("tentative", "confirmed")
OPEN = ("new", "dispatching", "escalated")  # not booked yet (nor closed)
RETRY_PAUSE = 0.1  # seconds between tries of a request the stack could not answer
PATIENCE = 60.0  # seconds a request is tried for before the load gives up on it


class Tally:
    """Counts by name, from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.unanswered: list[str] = []  # request ids of tries reset or timed out

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] += n

    def lose(self, name: str, request_id: str) -> None:
        with self._lock:
            self.counts[name] += 1
            self.unanswered.append(request_id)

    def __getitem__(self, name: str) -> int:
        with self._lock:
            return self.counts[name]


def call(method: str, url: str, tally: Tally, *, body: dict | None = None,
         form: dict | None = None, headers: dict[str, str] | None = None,
         retry_lost: bool = False) -> tuple[int, Any]:
    """(status, decoded JSON or text) of one request, tried again while the stack cannot take it:
    connection refused (nothing reached the server) and 503 always; a connection reset, a
    dropped answer or a timeout only with retry_lost (requests safe to repeat: an
    Idempotency-Key, a MessageSid). Each kind of trouble is counted in tally; each try has an
    X-Request-Id of its own, so the logs tell whether a reset one reached the app."""
    deadline = time.monotonic() + PATIENCE
    while True:
        request_id = "load-" + uuid.uuid4().hex
        try:
            status, answer, retry_after = once(method, url, body=body, form=form,
                                               headers={**(headers or {}),
                                                        "X-Request-Id": request_id})
        except ConnectionRefusedError:
            tally.add("refused")
        except (ConnectionError, TimeoutError, http.client.HTTPException) as exc:
            tally.lose("timeout" if isinstance(exc, TimeoutError) else "reset", request_id)
            if not retry_lost:
                raise
        else:
            if status != 503:
                return status, answer
            tally.add("503")
            if not unavailable(answer, retry_after):
                tally.add("503_without_error_body")
        if time.monotonic() > deadline:
            raise AssertionError(f"{method} {url}: the stack did not answer for {PATIENCE:.0f} s "
                                 f"({dict(tally.counts)})")
        time.sleep(RETRY_PAUSE)


def once(method: str, url: str, *, body: dict | None = None, form: dict | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any, str | None]:
    """One try: (status, decoded JSON or text, Retry-After); connection errors raise."""
    headers = dict(headers or {})
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""),
                           body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    is_json = response.getheader("Content-Type", "").startswith("application/json")
    answer = json.loads(raw) if is_json and raw else raw.decode(errors="replace")
    return response.status, answer, response.getheader("Retry-After")


def unavailable(answer: Any, retry_after: str | None) -> bool:
    """Whether a 503 is the contract's: {"error": {"code": "unavailable", "message"}} and a
    Retry-After in seconds."""
    error = answer.get("error") if isinstance(answer, dict) else None
    return (isinstance(error, dict) and error.get("code") == "unavailable"
            and isinstance(error.get("message"), str) and (retry_after or "").isdigit())


class Database:
    """Reads of the stack's database, straight to it (not through the stack or a test proxy)."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        self._lock = threading.Lock()
        if self.sqlite:
            import sqlite3

            self._conn = sqlite3.connect(url[len("sqlite:///"):], timeout=10,
                                         isolation_level=None, check_same_thread=False)
        else:
            import psycopg2

            self._conn = psycopg2.connect(url)
            self._conn.autocommit = True  # each read sees what is committed now

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        """The rows of one statement written with ? placeholders."""
        with self._lock:
            cursor = self._conn.cursor()
            try:
                cursor.execute(sql if self.sqlite else sql.replace("?", "%s"), params)
                return cursor.fetchall()
            finally:
                cursor.close()

    def close(self) -> None:
        self._conn.close()


def moment(value: datetime | str) -> datetime:
    """A timestamp as either database returns it (SQLite: text)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


OFFERS = f"""SELECT m.ping_id, m.ticket_id, m.to_number, m.body FROM message m
JOIN ticket t ON t.id = m.ticket_id
WHERE m.direction = 'outbound' AND m.ping_id IS NOT NULL
  AND t.status IN ({", ".join(f"'{s}'" for s in OPEN)})
  AND (m.provider_id IS NOT NULL OR m.status NOT IN ('queued', 'sending', 'failed'))
ORDER BY m.id"""
BOOKED = f"""SELECT COUNT(*) FROM ticket WHERE category = '{CATEGORY}'
  AND status NOT IN ({", ".join(f"'{s}'" for s in OPEN)})"""
TWO_PENDING = """SELECT ticket_id FROM ping WHERE outcome = 'pending'
GROUP BY ticket_id HAVING COUNT(*) > 1"""


class Load:
    """Opens tickets through each web process in turn and answers every offer with racing YES
    webhooks: the offered vendor twice (two SIDs, two web processes) and every vendor offered
    the ticket before (a late YES). Every late_every-th ticket leaves its first offer unanswered,
    so it lapses and the next vendor's YES races the first one's."""

    def __init__(self, webs: list[str], api_key: str, webhook_token: str, database: Database, *,
                 late_every: int = 3, check: Callable[[], None] = lambda: None,
                 logs: Callable[[], str] = lambda: "") -> None:
        self.webs, self.database, self.late_every, self.check = webs, database, late_every, check
        self.logs = logs  # the stack's log tails, shown when a request of the setup fails
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.validator = RequestValidator(webhook_token)
        self.http = Tally()
        self.replies = Tally()
        self.tickets: list[int] = []
        self.offers: dict[int, list[tuple[str, str]]] = {}  # ticket: (phone, code), oldest first
        self.seen: set[int] = set()  # pings whose offer was answered or left to lapse
        self.two_pending = 0  # tickets seen with two offers open at once
        self.booked = 0  # tickets of the load booked (or closed) so far
        self.started = self.finished = 0.0
        self._futures: list[Future] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._openers = ThreadPoolExecutor(8, thread_name_prefix="load-open")
        self._answerers = ThreadPoolExecutor(16, thread_name_prefix="load-yes")
        self._threads: list[threading.Thread] = []

    def web(self, n: int) -> str:
        return self.webs[n % len(self.webs)]

    def api(self, method: str, path: str, body: dict | None = None, *, n: int = 0,
            headers: dict[str, str] | None = None, retry_lost: bool = False) -> Any:
        status, answer = call(method, self.web(n) + "/api" + path, self.http, body=body,
                              headers=self.headers | (headers or {}), retry_lost=retry_lost)
        assert 200 <= status < 300, f"{method} {path}: {status} {answer}\n{self.logs()}"
        return answer

    # ---- setting up ---------------------------------------------------------------------

    def add_vendors(self, count: int) -> None:
        """count 24/7 vendors, the only ones for CATEGORY: one free for each ticket (an
        emergency's vendor is busy for two hours) and some to spare."""
        def add(n: int) -> None:
            self.api("POST", "/vendors", {"name": f"Load vendor {n}",
                                          "phones": [f"+1555800{n:04d}"],
                                          "specialties": [CATEGORY], "hours": "24/7",
                                          "priority": 1}, n=n)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(add, range(count)))

    # ---- the load -----------------------------------------------------------------------

    def start(self, tickets: int, in_flight: int) -> None:
        """Open tickets through the web processes in turn, at most in_flight unbooked at once
        (the load keeps pace with the machine, however slow), and answer their offers."""
        tenants = self.api("GET", "/tenants")
        self.started = time.monotonic()
        for target in (lambda: self._open_all(tickets, in_flight, tenants), self._answer_all):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def opened(self) -> int:
        with self._lock:
            return len(self.tickets)

    def _open_all(self, count: int, in_flight: int, tenants: list[dict]) -> None:
        for n in range(count):
            while n - self.booked >= in_flight and not self._stop.is_set():
                time.sleep(0.02)
            self._keep(self._openers.submit(self._open, n, tenants[n % len(tenants)]))

    def _open(self, n: int, tenant: dict) -> None:
        ticket = self.api("POST", "/tickets", {
            "tenantId": tenant["id"], "propertyId": tenant["propertyId"], "category": CATEGORY,
            "severity": "emergency", "window": "now"}, n=n,
            headers={"Idempotency-Key": f"load-{n}"}, retry_lost=True)
        with self._lock:
            self.tickets.append(ticket["id"])

    def _answer_all(self) -> None:
        while not self._stop.is_set():
            try:
                self._answer_offers()
            except Exception as exc:  # the database itself is never cut: this is a bug here
                self._keep(self._answerers.submit(_raise, exc))
                return
            self._stop.wait(0.15)

    def _answer_offers(self) -> None:
        for ping_id, ticket_id, phone, body in self.database.rows(OFFERS):
            code = OFFER_CODE.search(body)
            if ping_id in self.seen or code is None:
                continue
            self.seen.add(ping_id)
            earlier = self.offers.setdefault(ticket_id, [])
            offer = (phone, code[1])
            if ticket_id % self.late_every == 0 and not earlier:
                earlier.append(offer)  # left to lapse: its vendor answers late, racing the next
                continue
            racers = [offer, offer, *earlier]
            earlier.append(offer)
            for n, (number, job) in enumerate(racers):
                self._keep(self._answerers.submit(self._yes, ticket_id + n, number, job))
        self.two_pending = max(self.two_pending, len(self.database.rows(TWO_PENDING)))
        self.booked = self.database.rows(BOOKED)[0][0]

    def _yes(self, n: int, phone: str, code: str) -> None:
        """A signed YES from phone to web process n; Twilio's retries keep its MessageSid."""
        url = self.web(n) + "/webhooks/twilio/sms"
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "From": phone, "To": "+15550000000",
                "Body": f"YES {code}"}
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, form)}
        status, answer = call("POST", url, self.http, form=form, headers=headers,
                              retry_lost=True)
        assert status == 200, f"YES {code} from {phone}: {status} {answer}"
        self.replies.add("you have the job" if "You have job" in answer
                         else "already filled" if "already been filled" in answer else "other")

    def _keep(self, future: Future) -> None:
        with self._lock:
            self._futures.append(future)

    # ---- the end ------------------------------------------------------------------------

    def wait_booked(self, tickets: int, timeout: float) -> bool:
        """Wait until tickets were opened and each booked; False on timeout (figures tell)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.healthy()
            if self.opened() == tickets and self._unbooked() == 0:
                self.finished = time.monotonic()
                return True
            time.sleep(0.2)
        return False

    def _unbooked(self) -> int:
        with self._lock:
            ids = set(self.tickets)
        return sum(1 for ticket_id, status in self.database.rows("SELECT id, status FROM ticket")
                   if ticket_id in ids and status in OPEN)

    def healthy(self) -> None:
        """Fail now if a process of the stack died or a request of the load failed."""
        self.check()
        self.raise_failures()

    def wait_settled(self, timeout: float) -> bool:
        """Wait until every event was handled and every outbound message sent (none waiting
        for a worker, none half sent); False on timeout."""
        def settled() -> bool:
            self.healthy()
            waiting = self.database.rows(
                "SELECT COUNT(*) FROM event WHERE handled_at IS NULL")[0][0]
            unsent = self.database.rows(
                "SELECT COUNT(*) FROM message WHERE direction = 'outbound' AND provider_id IS NULL"
                " AND status IN ('queued', 'sending')")[0][0]
            return waiting == 0 and unsent == 0

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if settled():
                return True
            time.sleep(0.25)
        return False

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        self._openers.shutdown(wait=True, cancel_futures=True)
        self._answerers.shutdown(wait=True)
        self.raise_failures()

    def raise_failures(self) -> None:
        """Fail with the first request the stack never answered or answered wrongly."""
        with self._lock:
            done = [f for f in self._futures if f.done()]
        for future in done:
            future.result()  # a request the stack never answered, a wrong status: fail here


def _raise(exc: Exception) -> None:
    raise exc


@dataclass
class Figures:
    """What a run did and what the database says about it."""

    tickets: int = 0
    booked: int = 0
    lost: int = 0  # no active appointment
    doubled: int = 0  # more than one appointment or accepted offer
    faults: int = 0
    seconds: float = 0.0
    max_lateness: float | None = None  # of a lapsed offer's deadline, seconds
    offers: int = 0
    offers_repeated: int = 0  # an offer SMS sent twice for one ping
    two_pending: int = 0  # tickets seen with two offers open at once
    messages: int = 0
    sent_twice: int = 0  # the same text sent to the same number about the same ticket twice
    unsent: int = 0  # outbound messages queued, sending or failed (not on purpose) at the end
    untold: int = 0  # booked tickets whose tenant or landlord was not told
    extra: dict[str, Any] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # of what went wrong, for the failure

    def line(self, name: str) -> str:
        lateness = "n/a" if self.max_lateness is None else f"{self.max_lateness:.2f}s"
        extra = " ".join(f"{key}={value}" for key, value in self.extra.items())
        return (f"\n{name}: tickets={self.tickets} booked={self.booked} lost={self.lost} "
                f"doubled={self.doubled} faults={self.faults} seconds={self.seconds:.1f} "
                f"max_lateness={lateness} offers={self.offers} "
                f"offers_repeated={self.offers_repeated} two_pending={self.two_pending} "
                f"messages={self.messages} sent_twice={self.sent_twice} unsent={self.unsent} "
                f"untold={self.untold} {extra}").rstrip()

    def problems(self) -> list[str]:
        """Each figure that is not what a correct run gives."""
        wrong = {"booked": (self.booked, self.tickets), "lost": (self.lost, 0),
                 "doubled": (self.doubled, 0), "offers_repeated": (self.offers_repeated, 0),
                 "two_pending": (self.two_pending, 0), "sent_twice": (self.sent_twice, 0),
                 "unsent": (self.unsent, 0), "untold": (self.untold, 0)}
        return [f"{name}={got} (expected {want})" for name, (got, want) in wrong.items()
                if got != want] + self.examples


def measure(load: Load, faults: int = 0) -> Figures:
    """The figures of a finished load, read from the database."""
    db, ids = load.database, set(load.tickets)
    figures = Figures(tickets=len(ids), faults=faults, two_pending=load.two_pending,
                      seconds=(load.finished or time.monotonic()) - load.started)
    appointments: Counter[int] = Counter()
    active: Counter[int] = Counter()
    for ticket_id, status in db.rows("SELECT ticket_id, status FROM appointment"):
        appointments[ticket_id] += 1
        active[ticket_id] += status in ACTIVE
    accepted = Counter(row[0] for row in db.rows(
        "SELECT ticket_id FROM ping WHERE outcome = 'accepted'"))
    booked_at = {}
    for ticket_id, status, at in db.rows("SELECT id, status, booked_at FROM ticket"):
        if ticket_id not in ids:
            continue
        if active[ticket_id] == 0:
            figures.lost += 1
        elif appointments[ticket_id] > 1 or accepted[ticket_id] > 1:
            figures.doubled += 1
        elif status == "scheduled":
            figures.booked += 1
            booked_at[ticket_id] = moment(at)

    offers_per_ping: Counter[int] = Counter()
    texts: Counter[tuple] = Counter()
    told: set[tuple[int, str]] = set()
    withheld = 0  # failed on purpose: "not sent: the offer was already timed_out", …
    for ticket_id, ping_id, to, body, role, status, provider, created, error in db.rows(
            "SELECT ticket_id, ping_id, to_number, body, recipient_type, status, provider_id,"
            " created_at, error FROM message WHERE direction = 'outbound'"):
        figures.messages += 1
        if status == "failed" and (error or "").startswith("not sent:"):
            withheld += 1
            continue
        if ping_id is not None and OFFER_CODE.search(body):
            offers_per_ping[ping_id] += 1
        if status != "replied":  # a TwiML answer: one per inbound SMS, as many as came in
            texts[(ticket_id, to, body)] += 1
        if provider is None and status in ("queued", "sending", "failed"):
            figures.unsent += 1
        if ticket_id in booked_at and moment(created) >= booked_at[ticket_id]:
            told.add((ticket_id, role))
    figures.offers = sum(offers_per_ping.values())
    figures.offers_repeated = sum(1 for n in offers_per_ping.values() if n > 1)
    twice = [key for key, n in texts.items() if n > 1]
    figures.sent_twice = len(twice)
    figures.examples += [f"sent twice: {key}" for key in twice[:3]]
    figures.untold = sum(1 for ticket_id in booked_at
                         if not {(ticket_id, "tenant"), (ticket_id, "landlord")} <= told)

    expires = dict(db.rows("SELECT id, expires_at FROM ping WHERE outcome <> 'pending'"))
    late = [(moment(at) - moment(expires[json.loads(data)["pingId"]])).total_seconds()
            for at, data in db.rows(
                "SELECT created_at, data FROM event WHERE type = 'vendor.timed_out'")
            if json.loads(data).get("pingId") in expires]
    figures.max_lateness = max(late) if late else None
    replies = {k.replace(" ", "_"): v for k, v in sorted(load.replies.counts.items())}
    trouble = {f"http_{k}": v for k, v in sorted(load.http.counts.items())}
    figures.extra = {"lapsed": len(late), "withheld": withheld, **replies, **trouble}
    return figures


def start_webs(stack: Stack, count: int) -> list[str]:
    """count web processes, the stack's own port first, each on a port of its own (machines
    behind a load balancer); their base URLs, once each answers /readyz."""
    ports = [stack.port] + [free_port() for _ in range(count - 1)]
    for port in ports:
        stack.start_web(port)
    bases = [f"http://127.0.0.1:{port}" for port in ports]

    def ready() -> bool:
        stack.check_alive()
        return all(request("GET", base + "/readyz", timeout=2)[0] == 200 for base in bases)

    wait_until(ready, 45, "every web process answering /readyz", stack.logs)
    return bases


def redis_db(url: str, offset: int) -> str:
    """url with another database number of the same server: offset below its own, mod 16."""
    parts = urllib.parse.urlsplit(url)
    number = int(parts.path.strip("/") or 0)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{(number - offset) % 16}"))
