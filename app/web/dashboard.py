"""The landlord dashboard: tickets by state with SLA clocks, booking metrics, a time-to-book chart.

The board waits for changes (app/web/live.py: /dashboard/changes, held until the landlord's
tickets change) and polls every 20 s besides; without the change feed it polls itself every
second. Each poll carries the version it shows; an unchanged version answers 204 (htmx swaps
nothing), so an idle polling dashboard costs one small query a second.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from peewee import Case, fn

from app import clock, faults, money
from app.booking import quotes, transitions
from app.booking.metrics import spread, ticket_metrics
from app.messaging import spend
from app.models import Event, Landlord, Property, Tenant, Ticket
from app.web import board_parts, live, visit_board
from app.web.auth import login_required
from app.web.charts import Bar, bar_chart, duration

bp = Blueprint("dashboard", __name__)
bp.add_app_template_filter(duration, "duration")

BOARD_ID = "board"
# (status or "closed", heading, what an empty group says) in the order the board shows them.
GROUPS = (
    ("escalated", "Escalated", "Nothing needs you right now."),
    ("dispatching", "Finding a vendor", "No ticket is waiting for a vendor."),
    ("new", "New", "No new tickets."),
    ("scheduled", "Scheduled", "Nothing scheduled."),
    ("closed", "Recently completed or cancelled", "Nothing closed yet."),
)
OPEN_STATUSES = ("escalated", "dispatching", "new", "scheduled")
ROWS_PER_GROUP = 50
RECENT_CLOSED = 10
CHART_TICKETS = 30


@dataclass(frozen=True)
class Clock:
    """A ticket's SLA clock as the board shows it; state names a CSS class."""

    text: str
    state: str  # running, soon, overdue, escalated, booked, closed, none
    deadline: datetime | None = None


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    age: str
    clock: Clock
    refused: bool = False  # the tenant said the visit time does not work


@dataclass(frozen=True)
class Group:
    key: str
    title: str
    empty: str
    rows: list[Row]
    total: int


def sla_clock(ticket: Ticket, now: datetime) -> Clock:
    """Time left to escalate_at while unbooked, overdue past it, time-to-book once booked."""
    if ticket.booked_at is not None:
        took = (ticket.booked_at - ticket.created_at).total_seconds()
        return Clock(f"booked in {duration(took)}", "booked")
    if ticket.status == "cancelled":
        return Clock("cancelled before booking", "closed")
    if ticket.status == "escalated":
        since = ticket.escalated_at or ticket.updated_at
        return Clock(f"escalated {_coarse((now - since).total_seconds())} ago", "escalated")
    if ticket.escalate_at is None:
        return Clock("no deadline", "none")
    left = (ticket.escalate_at - now).total_seconds()
    if left <= 0:
        return Clock(f"overdue by {_coarse(-left)}", "overdue", ticket.escalate_at)
    allowed = (ticket.escalate_at - ticket.created_at).total_seconds()
    state = "soon" if left < allowed / 4 else "running"
    return Clock(f"{_coarse(left)} left", state, ticket.escalate_at)


def _coarse(seconds: float) -> str:
    """A duration to the minute: the board re-renders once a minute, not every second."""
    return "under 1 min" if seconds < 60 else duration(seconds)


def version(landlord: Landlord, now: datetime) -> str:
    """A stamp that changes whenever the board would: tickets, their events, deadlines passed."""
    count, latest, overdue = (
        Ticket.select(fn.COUNT(Ticket.id), fn.MAX(Ticket.updated_at),
                      fn.SUM(Case(None, [((Ticket.escalate_at <= now), 1)], 0)))
        .where(Ticket.landlord == landlord)
        .tuples()
        .get())
    last_event = Event.select(fn.MAX(Event.id)).where(Event.landlord == landlord).scalar()
    raw = f"{count}|{latest}|{overdue or 0}|{last_event}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def minute(now: datetime) -> str:
    """The clock tick the board's durations are rounded to."""
    return str(int(now.replace(tzinfo=UTC).timestamp() // 60))


def _tickets(landlord: Landlord):
    return (Ticket.select(Ticket, Property, Tenant)
            .join(Property, on=(Ticket.property == Property.id))
            .switch(Ticket)
            .join(Tenant, on=(Ticket.tenant == Tenant.id))
            .where(Ticket.landlord == landlord))


def _urgency(ticket: Ticket) -> tuple:
    """Most urgent first: escalated emergencies, then escalations by how long the tenant has
    waited; unbooked by nearest deadline; newest booking first."""
    if ticket.status == "escalated":
        return (ticket.severity != "emergency", ticket.created_at, ticket.id)
    if ticket.status in transitions.UNBOOKED:
        return (ticket.escalate_at is None, ticket.escalate_at or ticket.created_at)
    return (-(ticket.booked_at or ticket.updated_at).timestamp(),)


def groups(landlord: Landlord, now: datetime) -> list[Group]:
    """The landlord's tickets by state, escalations first, each with its age and SLA clock."""
    found: dict[str, list[Ticket]] = {key: [] for key, _, _ in GROUPS}
    for ticket in _tickets(landlord).where(Ticket.status.in_(OPEN_STATUSES)):
        found[ticket.status].append(ticket)
    refused = visit_board.refused(landlord)
    found["closed"] = list(_tickets(landlord)
                           .where(Ticket.status.not_in(OPEN_STATUSES))
                           .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
                           .limit(RECENT_CLOSED))
    result = []
    for key, title, empty in GROUPS:
        tickets = found[key] if key == "closed" else sorted(found[key], key=_urgency)
        rows = [Row(t, _coarse((now - t.created_at).total_seconds()), sla_clock(t, now),
                    t.id in refused)
                for t in tickets[:ROWS_PER_GROUP]]
        result.append(Group(key, title, empty, rows, len(tickets)))
    return result


def time_to_book_chart(landlord: Landlord):
    """Bars of time-to-book for the landlord's most recently booked tickets, oldest first."""
    booked = list(Ticket.select(Ticket.id, Ticket.category, Ticket.severity, Ticket.created_at,
                                Ticket.booked_at)
                  .where(Ticket.landlord == landlord, Ticket.booked_at.is_null(False))
                  .order_by(Ticket.booked_at.desc(), Ticket.id.desc())
                  .limit(CHART_TICKETS))[::-1]
    bars = []
    for ticket in booked:
        seconds = (ticket.booked_at - ticket.created_at).total_seconds()
        bars.append(Bar(seconds=seconds, label=f"#{ticket.id}", css_class=ticket.severity,
                        title=f"Ticket #{ticket.id}, {ticket.category} ({ticket.severity}): "
                              f"booked in {duration(seconds)}"))
    if bars:
        times = spread([bar.seconds for bar in bars])
        description = (f"{len(bars)} most recent bookings, oldest on the left. "
                       f"Median {duration(times.p50)}, longest {duration(times.max)}.")
    else:
        description = "No ticket has been booked yet."
    return bar_chart(bars, title=f"Time to book, last {len(bars)} booked tickets",
                     description=description, x_label="Booked tickets, oldest to newest",
                     y_label="Time to book", chart_id="time-to-book"), len(bars)


def announcement(board: list[Group]) -> str:
    """What the live region says when the board changes: the counts that need attention."""
    counts = ", ".join(f"{group.total} {group.title.lower()}" for group in board
                       if group.key != "closed")
    return f"Tickets updated: {counts}."


def ticket_url(ticket_id: int) -> str:
    if "tickets.show" in current_app.view_functions:
        return url_for("tickets.show", ticket_id=ticket_id)
    return f"/tickets/{ticket_id}"


@bp.get("/dashboard")
@login_required
def index():
    """Tickets by state and the booking metrics; the board alone when its poll asks."""
    landlord, now = g.landlord, clock.now()
    stamp, tick = version(landlord, now), minute(now)
    polled = request.headers.get("HX-Target") == BOARD_ID
    if polled and request.args.get("v") == stamp and request.args.get("t") == tick:
        response = current_app.make_response(("", 204))
    else:
        response = _render(landlord, now, stamp, tick, polled=polled, waits=live.on())
    return _uncached(response)


@bp.get("/dashboard/changes")
@login_required
def changes():
    """Held until the board (as of ?v=&t=) changes, at most until the next minute (its
    durations are to the minute), then the new board; 204 when nothing changed in time; at
    once, polling, when it cannot wait (app/web/live.py). Only this landlord's notices wake it.
    """
    landlord, found = g.landlord, {}
    seen = (request.args.get("v"), request.args.get("t"))

    def unchanged() -> bool:
        now = clock.now()
        found["now"], found["key"] = now, (version(landlord, now), minute(now))
        return found["key"] == seen

    started = clock.now()
    to_next_minute = 60.0 - started.second - started.microsecond / 1e6 + 0.05
    outcome = live.wait([("landlord", landlord.id)], unchanged,
                        min(live.WAIT_SECONDS, to_next_minute))
    if outcome == live.QUIET:
        return _uncached(live.quiet_response())
    stamp, tick = found["key"]
    waits = outcome == live.CHANGED and live.on()
    response = _render(landlord, found["now"], stamp, tick, polled=True, waits=waits,
                       shared=True)
    known = request.args.get("p")
    if waits and known:  # the page says which parts it shows: send the changed ones only
        partial = board_parts.changed_only(response.get_data(as_text=True), known)
        if partial is not None:
            response.set_data(partial)
            response.headers["HX-Retarget"] = "#board-feed"
            response.headers["HX-Reswap"] = "outerHTML"
    return _uncached(response)


class Boards:
    """Board fragments rendered once per (landlord, version, minute) in this process.

    A change wakes every open dashboard of a landlord at the same moment (/dashboard/changes),
    and each would render the same board (the dearest page there is). The first renders it,
    with a placeholder where the forms' CSRF token goes; the others wait for that and get a
    copy with their own session's token put in. A version stands for what the board shows, as
    the polls' 204s already assume; a copy is reused for FRESH_SECONDS at most.
    """

    KEEP = 32
    FRESH_SECONDS = 2.0

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done: OrderedDict[tuple, tuple[float, str]] = OrderedDict()
        self.making: dict[tuple, threading.Event] = {}
        self.placeholder = "csrf-" + secrets.token_hex(16)

    def get(self, key: tuple, make: Callable[[str], str]) -> str:
        """The board for key, made (make(placeholder)) once however many ask at once."""
        with self.lock:
            if (html := self._fresh(key)) is not None:
                return html
            ready = self.making.get(key)
            mine = ready is None
            if mine:
                ready = self.making[key] = threading.Event()
        if not mine:
            ready.wait(10)
            with self.lock:
                if (html := self._fresh(key)) is not None:
                    return html
            return make(self.placeholder)  # the first one failed: make it here
        try:
            html = make(self.placeholder)
            with self.lock:
                self.done[key] = (time.monotonic(), html)
                while len(self.done) > self.KEEP:
                    self.done.popitem(last=False)
            return html
        finally:
            with self.lock:
                self.making.pop(key, None)
            ready.set()

    def _fresh(self, key: tuple) -> str | None:
        made = self.done.get(key)
        if made is None or time.monotonic() - made[0] > self.FRESH_SECONDS:
            return None
        return made[1]

    def clear(self) -> None:
        with self.lock:
            self.done.clear()


boards = Boards()


def _render(landlord: Landlord, now: datetime, stamp: str, tick: str, *, polled: bool,
            waits: bool, shared: bool = False):
    """The dashboard, or (polled) its board; `waits`: the board waits for changes
    (/dashboard/changes) and polls slowly, else it polls every second; `shared`: one render
    serves every dashboard of the landlord asking at once (Boards)."""
    changed = polled and request.args.get("v") != stamp
    if not (polled and shared):
        return current_app.make_response(_html(landlord, now, stamp, tick, polled=polled,
                                                changed=changed, waits=waits))
    config = current_app.extensions["fixline"]
    key = (config.database_url, landlord.id, stamp, tick, changed, waits)
    html = boards.get(key, lambda placeholder: _html(
        landlord, now, stamp, tick, polled=True, changed=changed, waits=waits,
        csrf=lambda: placeholder))
    return current_app.make_response(html.replace(boards.placeholder, generate_csrf()))


def _html(landlord: Landlord, now: datetime, stamp: str, tick: str, *, polled: bool,
          changed: bool, waits: bool, csrf: Callable[[], str] | None = None) -> str:
    board = groups(landlord, now)
    chart, charted = time_to_book_chart(landlord)
    extra = {"csrf_token": csrf} if csrf is not None else {}
    html = render_template(
        "dashboard/_board.html" if polled else "dashboard/index.html",
        groups=board, metrics=ticket_metrics(landlord), chart=chart, charted=charted,
        visits=visit_board.lists(landlord, now, current_app.extensions["fixline"]),
        waiting_quotes=quotes.waiting(landlord.id), money=money.show,
        poll_url=url_for(".index", v=stamp, t=tick), ticket_url=ticket_url,
        announcement=announcement(board) if changed else None,
        stuck=[(f, faults.describe(f)) for f in faults.parked(landlord=landlord.id)],
        hourly=spend.hourly_use(landlord.id,
                                current_app.extensions["fixline"].sms_hourly_limit),
        max_attempts=faults.MAX_ATTEMPTS,
        waits=waits, wait_url=url_for(".changes", v=stamp, t=tick, p=board_parts.SLOT),
        poll_seconds=live.FALLBACK_POLL_SECONDS if waits else 1, **extra,
    )
    if not waits:
        return html
    return board_parts.fill(html, csrf() if csrf is not None else g.get("csrf_token", ""))


def _uncached(response):
    response.vary.add("HX-Request")
    response.vary.add("HX-Target")
    response.headers["Cache-Control"] = "no-store"
    return response
