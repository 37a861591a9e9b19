"""Which vendors to ask for a ticket, in which order, and why each other vendor is not asked.

Every rule is written once, in RULES: most as an SQL expression (true when the rule keeps the
vendor from being asked), service area and working hours as a Python test. considered() reads every
vendor of the landlord with each rule's answer as a column (CONSIDERED); candidates() runs the
same expressions as the WHERE of NOT_YET_ASKED, so the database skips the visits and offers of
vendors already ruled out, then applies the Python rules to the rest. Either is one statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from peewee import SQL, Case, NodeList, Select, Value, fn

from app import clock
from app.booking.hours import describe, next_open, open_at, overlaps
from app.booking.windows import LONE_HOURS, parse_window
from app.db import is_postgres
from app.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    Event,
    Ping,
    Ticket,
    Vendor,
    VendorPhone,
)
from app.prepared import Param, Prepared

GAVE_UP = ("cancelled", "no_show")  # a vendor whose visit for the ticket ended so: not asked again
ROUND_RESTARTED = "dispatch.restarted"  # the landlord began a new round of asking (loop.redispatch)
ROUND_BEGUN = "dispatch.round"  # §10: the next round asks again those who did not answer (rounds)
EMERGENCY_SPAN = timedelta(hours=2)  # an emergency's visit: from now, this long (§10 busy rule)
TIMEOUTS_TO_DEMOTE = 3  # this many last offers timed out, every one: asked last of its priority
NO_SHOW_MEMORY = timedelta(days=30)  # a no-show this recent: asked last of its priority
_LONE_VISIT = timedelta(hours=LONE_HOURS)  # a visit with a start and no end lasts this long
_NO_SPAN = (datetime(1900, 1, 1), datetime(1900, 1, 1))  # no window read: nobody is busy in it

LAST_RESTART = Prepared(lambda: Event.select(Event.data).where(
    Event.ticket == Param("ticket"), Event.type.in_((ROUND_RESTARTED, ROUND_BEGUN))).order_by(
    Event.id.desc()).limit(1))


@dataclass(frozen=True)
class _Job:
    """What a ticket's rules compare vendors against, worked out once per list."""

    ticket: Ticket
    now: datetime
    tz: str
    window: tuple[datetime, datetime] | None  # the tenant's, read; None: not understood
    busy_span: tuple[datetime, datetime] | None  # the visit's span; None: cannot rule out
    day: date  # the job's day in the property's zone (max_visits_per_day)
    today: date  # in the property's zone (insurance)
    postal_code: str  # normalized; "" rules nobody out
    marks: tuple[int, int]  # round_marks()

    @classmethod
    def of(cls, ticket: Ticket, now: datetime, *, first: bool = False) -> _Job:
        """first: dispatch is just starting, so no round or fresh start has been marked."""
        prop = ticket.property
        tz = prop.timezone
        window = parse_window(ticket.window, ticket.created_at, tz)
        if ticket.severity == "emergency":
            busy_span = (now, now + EMERGENCY_SPAN)
            day = _local(now, tz).date()
        else:
            busy_span = window
            day = _local(window[0] if window else ticket.created_at, tz).date()
        return cls(ticket, now, tz, window, busy_span, day, _local(now, tz).date(),
                   normalize_postal(prop.postal_code), (0, 0) if first else round_marks(ticket))

    def params(self) -> dict:
        """The values the statements bind."""
        since, until = self.busy_span or _NO_SPAN
        day_start, day_end = _day_bounds(self.day, self.tz)
        after, answers_after = self.marks
        return dict(landlord=self.ticket.landlord_id, ticket=self.ticket.id,
                    after=after, answers_after=answers_after, trade=f'"{self.ticket.category}"',
                    today=self.today, since=since, until=until, lone_since=since - _LONE_VISIT,
                    day_start=day_start, day_end=day_end,
                    no_show_since=self.now - NO_SHOW_MEMORY)


# --- the rules decided by the database: true when the rule keeps the vendor from being asked

def _no_phone():
    return ~fn.EXISTS(VendorPhone.select(SQL("1")).where(VendorPhone.vendor == Vendor.id))


def _wrong_trade():
    """The ticket's category is not among the vendor's specialties (a JSON list of words,
    looked for as '"pest"'). SQLite searches with instr(): it plans a statement with a bound
    LIKE pattern again on every run (its LIKE optimization reads the pattern). PostgreSQL
    keeps LIKE, whose estimate its planner's choices for this statement rest on."""
    trade = Param("trade", Ticket.category)
    if is_postgres():
        return ~NodeList((Vendor.specialties, SQL("LIKE"),
                          Value("%").concat(trade).concat("%")), parens=True)
    return fn.INSTR(Vendor.specialties, trade) == 0


def _lapsed():
    return fn.COALESCE(Vendor.insurance_expires_at < Param("today"), False)


def _busy():
    """An active visit of the vendor (any ticket) meets [since, until)."""
    visit = Appointment.alias("busy_visit")
    return fn.EXISTS(visit.select(SQL("1")).where(
        visit.vendor == Vendor.id, visit.status.in_(ACTIVE_APPOINTMENT_STATUSES),
        visit.starts_at < Param("until"),
        (visit.ends_at > Param("since")) | (visit.ends_at.is_null()
                                            & (visit.starts_at > Param("lone_since")))))


def _day_full():
    """The vendor has max_visits_per_day active visits starting on the job's local day."""
    visit = Appointment.alias("day_visit")
    count = visit.select(fn.COUNT(visit.id)).where(
        visit.vendor == Vendor.id, visit.status.in_(ACTIVE_APPOINTMENT_STATUSES),
        visit.starts_at >= Param("day_start"), visit.starts_at < Param("day_end"))
    return Case(None, ((Vendor.max_visits_per_day.is_null(), False),),
                count >= Vendor.max_visits_per_day)


def _ended_here(status: str):
    """The vendor's visit for this ticket ended so, one of GAVE_UP (§9: not asked again)."""
    return Vendor.id.in_(Appointment.select(Appointment.vendor).where(
        Appointment.ticket == Param("ticket"), Appointment.status == status))


def _asked_this_round():
    """Offered this ticket in this round (a landlord's "dispatch again" can start a new one)."""
    return Vendor.id.in_(Ping.select(Ping.vendor).where(
        Ping.ticket == Param("ticket"), Ping.id > Param("after")))


def _answered_here():
    """Said NO to this ticket, or could not be reached, since the last fresh start: a new
    round asks again only those who did not answer (§10)."""
    return Vendor.id.in_(Ping.select(Ping.vendor).where(
        Ping.ticket == Param("ticket"), Ping.id > Param("answers_after"),
        Ping.outcome.in_(("declined", "failed"))))


# --- the rules decided in Python, on the row

def normalize_postal(code: str | None) -> str:
    """A postal code or prefix as compared: upper case, no spaces ('sw1a 1aa' → 'SW1A1AA')."""
    return "".join((code or "").split()).upper()


def covers(areas: list[str] | None, postal_code: str) -> bool:
    """Whether service areas (postal-code prefixes; none: anywhere) cover a normalized code
    ('': the property has none, so areas cannot rule the vendor out)."""
    prefixes = [p for p in map(normalize_postal, areas or []) if p]
    return not prefixes or not postal_code or any(postal_code.startswith(p) for p in prefixes)


def _works_then(vendor: Vendor, ticket: Ticket, now: datetime, tz: str,
                window: tuple[datetime, datetime] | None) -> bool:
    """Emergencies need a vendor working now; routine jobs one whose hours meet the window
    (None: the tenant's words could not be read, so hours cannot rule anyone out)."""
    if ticket.severity == "emergency":
        return open_at(vendor.schedule, now, tz)
    return window is None or overlaps(vendor.schedule, window[0], window[1], tz)


@dataclass(frozen=True)
class Rule:
    """One reason a vendor is not asked, decided by the database (sql) or in Python (test)."""

    name: str
    short: str  # how an escalation counts the vendors it kept out: "2 <short>"
    explain: Callable[[Vendor, _Job], str]
    sql: Callable[[], object] | None = None  # builds an expression, true when the rule applies
    test: Callable[[Vendor, _Job], bool] | None = None  # True when the rule applies

    @property
    def column(self) -> str:
        """The CONSIDERED column holding an SQL rule's answer."""
        return f"rule_{self.name}"


RULES = (
    Rule("retired", "retired",
         lambda v, j: "retired", sql=lambda: Vendor.active == False),  # noqa: E712
    Rule("opted_out", "opted out",
         lambda v, j: "opted out (texted STOP)",
         sql=lambda: Vendor.opted_out == True),  # noqa: E712
    Rule("no_phone", "without a phone",
         lambda v, j: "no phone number", sql=_no_phone),
    Rule("wrong_trade", "do not do {category}",
         lambda v, j: f"does not do {j.ticket.category}", sql=_wrong_trade),
    Rule("lapsed", "insurance lapsed",
         lambda v, j: f"insurance lapsed on {v.insurance_expires_at}",
         sql=_lapsed),
    Rule("out_of_area", "out of area",
         lambda v, j: f"out of area (covers {', '.join(v.service_areas)})",
         test=lambda v, j: not covers(v.service_areas, j.postal_code)),
    Rule("off_hours", "off work then",
         lambda v, j: f"outside hours ({describe(v.schedule)})",
         test=lambda v, j: not _works_then(v, j.ticket, j.now, j.tz, j.window)),
    Rule("busy", "busy then",
         lambda v, j: "busy then (another visit)", sql=_busy),
    Rule("day_full", "fully booked that day",
         lambda v, j: f"day full ({v.max_visits_per_day} a day, reached on {j.day})",
         sql=_day_full),
    Rule("no_show_here", "did not show for this job",
         lambda v, j: "did not show for this job",
         sql=lambda: _ended_here("no_show")),
    Rule("cancelled_here", "cancelled on this job",
         lambda v, j: "visit for this job cancelled",
         sql=lambda: _ended_here("cancelled")),
    Rule("asked", "already asked",
         lambda v, j: "already asked this round", sql=_asked_this_round),
    Rule("answered", "said no",
         lambda v, j: "said no, or could not be reached", sql=_answered_here),
)


# --- reliability: never a reason not to ask, only to ask later

def _recent_timeouts():
    """How many of the vendor's last TIMEOUTS_TO_DEMOTE offers (any ticket) timed out."""
    offer = Ping.alias("recent_offer")
    last = (offer.select(offer.outcome).where(offer.vendor == Vendor.id)
            .order_by(offer.sent_at.desc(), offer.id.desc()).limit(TIMEOUTS_TO_DEMOTE)
            .alias("last_offers"))
    return Select([last], [fn.COUNT(SQL("*"))]).where(last.c.outcome == "timed_out")


def _last_no_show():
    """When the vendor's latest no-show since no_show_since was recorded, or NULL."""
    visit = Appointment.alias("missed_visit")
    return visit.select(fn.MAX(visit.cancelled_at)).where(
        visit.vendor == Vendor.id, visit.status == "no_show",
        visit.cancelled_at >= Param("no_show_since"))


def _vendors(fields, *columns):
    """Every vendor of the landlord (those fields) with the reliability facts and the given
    columns. Order: priority (1 first), then least recently offered any job (fair rotation; the
    timestamp lives on the vendor row, so it holds across restarts and worker processes); the
    index vendor_landlord_asking_order walks it in that order."""
    return Vendor.select(
        *fields, _recent_timeouts().alias("recent_timeouts"),
        _last_no_show().alias("last_no_show"), *columns,
    ).where(Vendor.landlord == Param("landlord")).order_by(*_asking_order())


def _asking_order() -> tuple:
    return Vendor.priority, Vendor.last_offered_at.asc(nulls="first"), Vendor.id


def _stretch():
    """The ids of one stretch of the landlord's vendors in asking order (limit, offset): the
    vendors a page of NOT_YET_ASKED weighs. Paging the plain list, not the list the rules
    leave, lets every database walk the asking-order index and stop (PostgreSQL, guessing few
    vendors pass the rules, would otherwise read and sort all of the landlord's)."""
    return (Vendor.select(Vendor.id).where(Vendor.landlord == Param("landlord"))
            .order_by(*_asking_order()).limit(Param("limit")).offset(Param("offset")))


def _landlords_vendors():
    """How many vendors the landlord has (where the paging ends)."""
    every = Vendor.alias("every_vendor")
    return every.select(fn.COUNT(every.id)).where(every.landlord == Param("landlord"))


# What the Python rules and the asking order read: the whole list (candidates()) reads only
# these; next_up's stretches read whole rows, so the vendor asked needs no second read.
_RULE_FIELDS = (Vendor.id, Vendor.name, Vendor.priority, Vendor.schedule, Vendor.service_areas)
FIRST_PAGE, PAGE_GROWTH = 16, 4  # next_up weighs this many vendors, then 4 times more each time
ALL = 2**31 - 1  # a page holding every vendor: candidates() is one statement

CONSIDERED = Prepared(lambda: _vendors(
    (Vendor,), *(rule.sql().alias(rule.column) for rule in RULES if rule.sql)))


def _not_yet_asked(fields: tuple, offer_facts: bool = False) -> Prepared:
    """The vendors of one stretch that no SQL rule rules out, with those fields; offer_facts:
    also what an offer to each needs (dispatch.send_ping), so the one asked is not read again."""
    return Prepared(lambda: _vendors(
        fields, _landlords_vendors().alias("of_landlord"),
        *(_offer_facts() if offer_facts else ())).where(
        Vendor.id.in_(_stretch()), *(~rule.sql() for rule in RULES if rule.sql)))


def _offer_facts() -> tuple:
    """The vendor's first phone (the one an offer goes to) and its open offers' codes (a new
    code must differ), comma-separated."""
    phone, first, offer = (VendorPhone.alias("first_phone"), VendorPhone.alias("first_place"),
                           Ping.alias("open_offer"))
    codes = (fn.STRING_AGG(offer.code, ",") if is_postgres()
             else fn.GROUP_CONCAT(offer.code, ","))
    lowest = first.select(fn.MIN(first.position)).where(first.vendor == Vendor.id)
    return (phone.select(phone.number).where(phone.vendor == Vendor.id, phone.position == lowest)
            .limit(1).alias("first_phone"),  # by index, no sort (positions are 0, 1, …)
            offer.select(codes).where(offer.vendor == Vendor.id, offer.outcome == "pending")
            .alias("open_codes"))


NOT_YET_ASKED = _not_yet_asked(_RULE_FIELDS)
NOT_YET_ASKED_WHOLE = _not_yet_asked((Vendor,), offer_facts=True)
LANDLORDS_VENDORS = Prepared(_landlords_vendors)


@dataclass(frozen=True)
class Consideration:
    """One vendor of the landlord weighed for a ticket: why they are not asked (reasons) or,
    when they are, why they come after the others of their priority (demoted)."""

    vendor: Vendor
    reasons: tuple[str, ...]  # empty: the vendor is (still) to be asked
    demoted: str | None = None  # "last 3 offers timed out", "no-show on 2026-03-01"
    opens_at: datetime | None = None  # a routine job's vendor off work now: asked from then
    rules: tuple[Rule, ...] = ()  # the RULES behind reasons

    @property
    def to_ask(self) -> bool:
        return not self.reasons


def _local(moment: datetime, tz: str) -> datetime:
    """A naive UTC moment on the clock of zone tz."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))


def _day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of a local day in zone tz, as naive UTC (23 or 25 hours across DST)."""
    zone = ZoneInfo(tz)
    return tuple(datetime.combine(d, time(), zone).astimezone(UTC).replace(tzinfo=None)
                 for d in (day, day + timedelta(days=1)))


def round_marks(ticket: Ticket) -> tuple[int, int]:
    """(after, answers_after): the last ping id before the current round of asking, and
    before the last fresh start (the landlord's, a reopening), whose NO answers still stand;
    0 and 0 in the first round."""
    restart = LAST_RESTART.first(ticket=ticket)
    if restart is None:
        return 0, 0
    after = int(restart.data.get("afterPingId", 0))
    return after, int(restart.data.get("answersAfter", after))


def _applies(rule: Rule, vendor: Vendor, job: _Job) -> bool:
    """Whether the rule keeps the vendor from being asked (a CONSIDERED row)."""
    return rule.test(vendor, job) if rule.test else bool(getattr(vendor, rule.column))


def _demotion(vendor: Vendor, job: _Job) -> str | None:
    """Why the vendor is asked after the others of its priority (§10 reliability), or None."""
    why = []
    if vendor.recent_timeouts >= TIMEOUTS_TO_DEMOTE:
        why.append(f"last {TIMEOUTS_TO_DEMOTE} offers timed out")
    if vendor.last_no_show is not None:
        missed = Appointment.cancelled_at.python_value(vendor.last_no_show)
        why.append(f"no-show on {_local(missed, job.tz).date().isoformat()}")
    return "; ".join(why) or None


def considered(ticket: Ticket, now: datetime | None = None) -> list[Consideration]:
    """Every vendor of the ticket's landlord, in the order they would be asked, each with why
    they are not asked (if so) and why they come late in their priority (if so)."""
    job = _Job.of(ticket, now or clock.now())
    found = []
    for vendor in CONSIDERED.rows(**job.params()):
        applying = [rule for rule in RULES if _applies(rule, vendor, job)]
        reasons = tuple(rule.explain(vendor, job) for rule in applying)
        vendor.demoted_why = _demotion(vendor, job)
        opens = None if reasons or _at_work(vendor, job) else _opening(vendor, job)
        found.append(Consideration(vendor, reasons, vendor.demoted_why, opens, tuple(applying)))
    found.sort(key=lambda c: (c.vendor.priority, c.demoted is not None))  # stable: rotation
    return found


# The rules that still hold when a landlord books a vendor by hand at a time of their choosing:
# the vendor is booked all the same, and the landlord is told (cautions()).
BY_HAND = ("opted_out", "no_phone", "wrong_trade", "lapsed", "out_of_area")


def cautions(ticket: Ticket, vendor: Vendor, now: datetime | None = None) -> list[str]:
    """What a landlord booking this vendor by hand should know: why the engine would not have
    asked them ("insurance lapsed on 2026-11-30", "opted out (texted STOP)"); [] if nothing."""
    for weighed in considered(ticket, now):
        if weighed.vendor.id == vendor.id:
            return [reason for rule, reason in zip(weighed.rules, weighed.reasons, strict=True)
                    if rule.name in BY_HAND]
    return []


def why_nobody(ticket: Ticket, now: datetime | None = None) -> str:
    """Why no vendor of the landlord can be asked, counted by the first rule keeping each out
    ("2 do not do pest, 1 insurance lapsed"), from considered(): the rules that chose."""
    counts: dict[str, int] = {}
    for weighed in considered(ticket, now):
        if weighed.rules:
            words = weighed.rules[0].short.format(category=ticket.category)
            counts[words] = counts.get(words, 0) + 1
    if not counts:
        return "no vendors on file"
    return ", ".join(f"{count} {words}" for words, count in counts.items())


def _pages(job: _Job, size: int, statement: Prepared = NOT_YET_ASKED) -> Iterator[Vendor]:
    """NOT_YET_ASKED's vendors a stretch of the landlord's list at a time, each stretch longer
    than the last: choosing one vendor usually reads only the first; size ALL reads them in
    one statement. Each row carries how many vendors the landlord has, so the paging knows
    where the list ends; a stretch where no vendor passes asks it (one more statement)."""
    params, offset = job.params(), 0
    while True:
        total = None
        for vendor in statement.each(**params, limit=size, offset=offset):
            total = vendor.of_landlord
            yield vendor
        if total is None:
            total = LANDLORDS_VENDORS.scalar(**params)
        if offset + size >= total:
            return
        offset, size = offset + size, size * PAGE_GROWTH


def _to_ask(job: _Job, page: int = ALL,
            statement: Prepared = NOT_YET_ASKED) -> Iterator[Vendor]:
    """The vendors no rule rules out, in asking order, read only as far as the caller goes:
    NOT_YET_ASKED applied the SQL rules and orders by priority; a demoted vendor waits until
    the rest of its priority has been offered."""
    held: list[Vendor] = []
    priority = None
    for vendor in _pages(job, page, statement):
        if vendor.priority != priority:
            yield from held
            held, priority = [], vendor.priority
        if any(rule.test(vendor, job) for rule in RULES if rule.test):
            continue
        vendor.demoted_why = _demotion(vendor, job)
        if vendor.demoted_why:
            held.append(vendor)
        else:
            yield vendor
    yield from held


def candidates(ticket: Ticket, now: datetime | None = None) -> list[Vendor]:
    """Vendors still to ask this round, best first: those no rule rules out."""
    return list(_to_ask(_Job.of(ticket, now or clock.now())))


@dataclass(frozen=True)
class NextUp:
    """Whom to ask now, or, when a routine job's vendors are all off work, when one starts."""

    vendor: Vendor | None  # ask this one now; its demoted_why says why it came late
    opens_at: datetime | None = None  # no one to ask now: the first vendor's hours open then


def _at_work(vendor: Vendor, job: _Job) -> bool:
    """Whether a vendor no rule rules out may be asked now: always for an emergency (the hours
    rule already wants them at work), for a routine job only inside their hours (§10)."""
    return job.ticket.severity == "emergency" or open_at(vendor.schedule, job.now, job.tz)


def _opening(vendor: Vendor, job: _Job) -> datetime | None:
    """When a vendor off work now may first be asked (None: their hours never open)."""
    return next_open(vendor.schedule, job.now, job.tz)


# The vendor a dispatch chooses, locked until its transaction ends unless another dispatch
# already holds them (PostgreSQL; SQLite runs one dispatch at a time).
UNLESS_TAKEN = Prepared(lambda: Vendor.select(Vendor.id).where(Vendor.id == Param("id"))
                        .limit(1).for_update("FOR NO KEY UPDATE SKIP LOCKED"))


def _free(vendor: Vendor) -> bool:
    """Whether this dispatch may offer the vendor now: nobody else is offering them."""
    return not is_postgres() or UNLESS_TAKEN.scalar(id=vendor.id) is not None


def next_up(ticket: Ticket, now: datetime | None = None, *, first: bool = False) -> NextUp:
    """The next vendor to ask: the first candidate, but for a routine job the first one
    inside their working hours now (§10); NextUp(None, None) when nobody is left this round.
    first: dispatch is just starting (nobody was asked yet). On PostgreSQL the vendor's row
    stays locked until the caller's transaction ends, and a vendor another dispatch holds is
    passed over while anyone else fits, so tickets dispatched at once rotate as they would
    one after the other instead of all going to the same least recently offered vendor."""
    job = _Job.of(ticket, now or clock.now(), first=first)
    off_work, taken = [], None
    for vendor in _to_ask(job, FIRST_PAGE, NOT_YET_ASKED_WHOLE):
        if not _at_work(vendor, job):
            off_work.append(vendor)
        elif _free(vendor):
            return NextUp(vendor)
        else:  # another ticket's dispatch is offering them this instant: rotate past them
            taken = taken or vendor
    if taken is not None:  # nobody else fits: wait for that one to be free
        return NextUp(taken)
    openings = [at for v in off_work if (at := _opening(v, job))]
    return NextUp(None, min(openings, default=None))


def next_vendor(ticket: Ticket, now: datetime | None = None) -> Vendor | None:
    """The one vendor to ask now (next_up), or None."""
    return next_up(ticket, now).vendor


def demotion(vendor: Vendor) -> dict:
    """The vendor.pinged fields for a vendor chosen by next_up (§10): demoted and why."""
    why = getattr(vendor, "demoted_why", None)
    return {"demoted": True, "demotedWhy": why} if why else {}
