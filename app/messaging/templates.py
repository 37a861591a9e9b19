"""The words Fixline sends: one function per message, so wording lives in one place.

What tenants and vendors read goes through the gettext catalog (app/i18n.py, CONTRACT §13) and
is rendered in their language: the caller passes lang=, or a reply takes the language its
sender speaks (i18n.speaking() around the answer). What only landlords read is English.

Text a person typed (names, addresses, windows, reasons) is marked with typed() or plain();
every public function's body is fitted when this module loads (_fitted, at the end): GSM-7
and at most two segments, typed parts transliterated or shortened, the template's own words
kept (Spanish words lose the accents GSM-7 lacks: á í ó ú; é ñ ¿ ¡ stay). Spoken messages
(calls) only lose the marks.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from app.i18n import DEFAULT, N_, current, gettext, speaking
from app.messaging.gsm import fit, plain_text, typed
from app.models import Ticket
from app.money import show as show_money


def _(message: str, **values: object) -> str:
    return gettext(message, **values)


CATEGORIES = {"plumbing": N_("plumbing"), "electrical": N_("electrical"), "hvac": N_("hvac"),
              "lock": N_("lock"), "appliance": N_("appliance"), "pest": N_("pest"),
              "general": N_("general")}
SEVERITIES = {"emergency": N_("emergency"), "routine": N_("routine")}


def _category(ticket: Ticket) -> str:
    return _(CATEGORIES.get(ticket.category, ticket.category))


def _severity(ticket: Ticket) -> str:
    return _(SEVERITIES.get(ticket.severity, ticket.severity))


def _job(ticket: Ticket) -> str:
    """What and where, for a vendor: the address is cut last when a text must be shortened."""
    return _("%(category)s (%(severity)s) at %(address)s", category=_category(ticket),
             severity=_severity(ticket), address=typed(ticket.property.address, kept=True))


def plain(text: str, limit: int = 500) -> str:
    """Something a person typed, on one line and at most limit characters, marked so the
    message is fitted around it (gsm.fit: GSM-7, at most two segments; CONTRACT §13)."""
    return typed(" ".join(text.split())[:limit])


def _reason(reason: str | None) -> str:
    said = " ".join((reason or "").split()).rstrip(".")
    return _(" Reason: %(reason)s.", reason=typed(said)) if said else ""


def vendor_offer(ticket: Ticket, code: str, link: str | None = None) -> str:
    """The SMS offering a job to a vendor (CONTRACT.md §7), with its job page (§9)."""
    page = _(" Details: %(link)s", link=link) if link else ""
    return _("Fixline job %(code)s: %(job)s, tenant available %(window)s. Reply YES %(code)s "
             "to take it or NO %(code)s to pass.%(page)s", code=code, job=_job(ticket),
             window=plain(ticket.window), page=page)


def vendor_offer_spoken(ticket: Ticket, code: str) -> str:
    """The same offer read out on a call; the keypad answers it (1 takes, 2 passes)."""
    return _("Hello, this is Fixline with job %(code)s: %(job)s. The tenant is available "
             "%(window)s. Press 1 to take the job, or press 2 to pass.", code=" ".join(code),
             job=_job(ticket), window=typed(ticket.window))


def _moment(moment, tz: ZoneInfo, english: str, pattern: str) -> str:
    """A local time: strftime's English (the tests' and landlords' words), else Babel's."""
    local = moment.replace(tzinfo=UTC).astimezone(tz)
    if current() == DEFAULT:
        return local.strftime(english).replace(":00 ", " ")
    return format_datetime(local, pattern, locale=current())


def _when(appointment) -> str:
    if appointment.starts_at is None:
        return _("at a time they will confirm with you")
    tz = ZoneInfo(appointment.ticket.property.timezone)
    text = _moment(appointment.starts_at, tz, "%a %b %-d, %-I:%M %p", "EEE d 'de' MMM, H:mm")
    if appointment.ends_at is not None:
        text += "-" + _moment(appointment.ends_at, tz, "%-I:%M %p", "H:mm")
    return text


def _confirm_ask(appointment) -> str:
    return f" {_(CONFIRM_ASK)}" if appointment.starts_at is not None else ""


def booked_tenant(ticket: Ticket, vendor, appointment) -> str:
    """To the tenant once a vendor has taken the job (asking them to confirm a set time)."""
    return _("Fixline: %(vendor)s will come for your %(category)s problem, %(when)s. Your "
             "landlord has been told.%(confirm)s", vendor=typed(vendor.name),
             category=_category(ticket), when=_when(appointment),
             confirm=_confirm_ask(appointment))


def booked_tenant_by_landlord(ticket: Ticket, vendor, appointment) -> str:
    """To the tenant once the landlord has booked a vendor by hand (or through the API)."""
    return _("Fixline: your landlord booked %(vendor)s for your %(category)s problem, "
             "%(when)s.%(confirm)s", vendor=typed(vendor.name), category=_category(ticket),
             when=_when(appointment), confirm=_confirm_ask(appointment))


def booked_landlord(ticket: Ticket, vendor, appointment, link: str,
                    booked_by: str = "vendor") -> str:
    """To the landlord once the job is booked: booked_by is "vendor" (their YES), "you" (by
    hand), "api" (through an API key) or the name of whoever else booked it."""
    job = (f"the {ticket.severity} {ticket.category} job at {typed(ticket.property.address)} "
           f"({_when(appointment)})")
    if booked_by == "vendor":
        return f"Fixline: {typed(vendor.name)} took {job}. {link}"
    if booked_by == "you":
        return f"Fixline: you booked {typed(vendor.name)} for {job}; we sent them the job. {link}"
    if booked_by == "api":
        return (f"Fixline: {typed(vendor.name)} was booked through the API for {job}; we sent them "
                f"the job. {link}")
    return (f"Fixline: {typed(booked_by)} booked {typed(vendor.name)} for {job}; we sent them "
            f"the job. {link}")


def _visit(appointment) -> str:
    if appointment.starts_at is None:
        return _("no visit time set yet: agree one with the tenant")
    return _when(appointment)


def _job_name(code: str | None) -> str:
    return _("Fixline job %(code)s", code=code) if code else "Fixline"


def vendor_booked(ticket: Ticket, appointment, landlord, code: str | None = None) -> str:
    """To a vendor the landlord booked by hand: the job, when, the tenant and who booked it.

    No offer of theirs was accepted, so it names the job by its offer's code only when they
    had one for this ticket; otherwise by what and where.
    """
    tenant = ticket.tenant
    return _("%(name)s: %(landlord)s booked you for %(job)s, %(visit)s. Tenant %(tenant)s, "
             "%(phone)s, available %(window)s. Questions: %(landlord)s, %(landlord_phone)s.",
             name=_job_name(code), landlord=typed(landlord.name), job=_job(ticket),
             visit=_visit(appointment), tenant=typed(tenant.name), phone=tenant.phone,
             window=typed(ticket.window), landlord_phone=landlord.phone)


def cancelled_vendor(ticket: Ticket, appointment, code: str | None, reason: str | None) -> str:
    """To the vendor booked for a job the landlord cancelled."""
    name = _("job %(code)s", code=code) if code else _("the job")
    return _("Fixline: %(name)s, %(job)s (%(when)s), is cancelled by the landlord, so please "
             "do not go.%(reason)s", name=name, job=_job(ticket), when=_when(appointment),
             reason=_reason(reason))


def offer_cancelled(code: str, reason: str | None) -> str:
    """To a vendor holding an open offer for a job the landlord cancelled."""
    return _("Fixline job %(code)s is cancelled by the landlord.%(reason)s No need to answer.",
             code=code, reason=_reason(reason))


def cancelled_tenant(ticket: Ticket, vendor, reason: str | None) -> str:
    """To the tenant when the landlord cancels their report."""
    coming = (_(" %(vendor)s will not come.", vendor=typed(vendor.name))
              if vendor is not None else "")
    return _("Fixline: your landlord cancelled your %(category)s repair request.%(reason)s"
             "%(coming)s Questions: ask your landlord.", category=_category(ticket),
             reason=_reason(reason), coming=coming)


def completed_tenant(ticket: Ticket, vendor) -> str:
    """To the tenant when the landlord marks the job done."""
    if vendor is not None:
        return _("Fixline: your landlord marked the %(category)s repair by %(vendor)s as done. "
                 "If it is not fixed, tell your landlord.", category=_category(ticket),
                 vendor=typed(vendor.name))
    return _("Fixline: your landlord marked the %(category)s repair as done. If it is not "
             "fixed, tell your landlord.", category=_category(ticket))


def offer_lapsed(code: str) -> str:
    """To a vendor whose offer timed out: not booked, but a late YES may still win it."""
    return _("Fixline job %(code)s: the offer expired and the job is not booked yet. Reply "
             "YES %(code)s if you can still take it.", code=code)


def job_filled(code: str) -> str:
    """To a vendor whose offer was overtaken by someone else's YES."""
    return _("Fixline job %(code)s has been filled by another vendor. No action needed, "
             "thanks.", code=code)


def _not_booked(ticket: Ticket, reason: str) -> str:
    return (f"the {ticket.severity} {ticket.category} job at {typed(ticket.property.address)} "
            f"is not booked ({typed(reason)})")


def escalated_landlord(ticket: Ticket, reason: str, link: str) -> str:
    """To the landlord when Fixline could not book a vendor (an emergency's is repeated until
    acknowledged, so it says how)."""
    text = f"Fixline needs you: {_not_booked(ticket, reason)}. {link}"
    if ticket.severity == "emergency":
        text += f" Reply ACK {ticket.id} to stop the reminders."
    return text + f" Reply AGAIN {ticket.id} to ask every vendor again."


def still_nobody_landlord(ticket: Ticket, reason: str, link: str) -> str:
    """To the landlord when asking an escalated ticket's vendors (again) booked nobody."""
    return (f"Fixline update: {_not_booked(ticket, reason)}. {link} Reply AGAIN {ticket.id} "
            "to ask every vendor again.")


def escalated_landlord_spoken(ticket: Ticket, reason: str) -> str:
    """The emergency's escalation read out on a call to the landlord; 1 acknowledges it."""
    return (f"Hello, this is Fixline. We need you: {_not_booked(ticket, reason)}. "
            "Press 1 to acknowledge.")


def reply_acknowledged(ticket: Ticket) -> str:
    """To a landlord whose ACK (text or keypress) stopped an escalation's reminders."""
    return (f"Thanks: you acknowledged ticket {ticket.id}, the {ticket.category} job at "
            f"{typed(ticket.property.address)}. No more reminders about it.")


def reply_nothing_to_acknowledge(number: str | None = None) -> str:
    """To an ACK (naming a ticket number, or not) that finds no escalation of theirs waiting
    for acknowledgement."""
    if number:
        return f"Fixline has no unacknowledged alert about ticket {number} for you."
    return "Fixline has no unacknowledged alert for you."


def escalated_tenant(ticket: Ticket) -> str:
    """To the tenant when their ticket goes to a person."""
    return _("Fixline: we have not booked a vendor for your %(category)s problem yet, so your "
             "landlord has been alerted and is on it.", category=_category(ticket))


def reply_booked(ping, appointment=None, link: str | None = None) -> str:
    """To the vendor whose YES won: the job, the tenant, and the visit time or how to set it."""
    ticket = ping.ticket
    text = _("You have job %(code)s: %(job)s. Tenant %(tenant)s, %(phone)s, available "
             "%(window)s.", code=ping.code, job=_job(ticket), tenant=typed(ticket.tenant.name),
             phone=ticket.tenant.phone, window=plain(ticket.window))
    if appointment is not None and appointment.starts_at is not None:
        text += _(" Visit %(when)s; we asked the tenant to confirm. Reply DONE %(code)s when "
                  "finished, CANCEL %(code)s if you cannot go.", when=_when(appointment),
                  code=ping.code)
    else:
        text += _(" Reply TIME %(code)s <when> (like TIME %(code)s tomorrow 9am) to set the "
                  "visit.", code=ping.code)
    return text + (f" {link}" if link else "")


def reply_filled(code: str) -> str:
    return _("Sorry, job %(code)s has already been filled. Thanks for answering.", code=code)


def reply_declined(code: str) -> str:
    return _("OK, you passed on job %(code)s. Thanks.", code=code)


def reply_holding(code: str, landlord) -> str:
    """A NO from the vendor who holds the job: it stays theirs until they hand it back."""
    return _("You still have job %(code)s: a NO does not hand it back. If you cannot do it, "
             "reply CANCEL %(code)s, or call %(landlord)s at %(phone)s.", code=code,
             landlord=typed(landlord.name), phone=landlord.phone)


def reply_job_cancelled(code: str) -> str:
    return _("Job %(code)s was cancelled by the landlord. No action needed, thanks.", code=code)


def reply_job_done(code: str) -> str:
    return _("Job %(code)s is already marked done. No action needed, thanks.", code=code)


def reply_not_open(code: str) -> str:
    return _("Job %(code)s is no longer open to you. No action needed, thanks.", code=code)


def reply_no_job(code: str | None) -> str:
    if code:
        return _("Fixline has no job %(code)s for you. Reply with the code from our message.",
                 code=code)
    return _("Fixline has no open job for you right now.")


# -- the visit (CONTRACT.md §9) ----------------------------------------------------------

RATE_ASK = N_("Is it fixed? Reply 1-5 to rate the visit (5 = great), or NOT FIXED.")
CONFIRM_ASK = N_("Reply YES to confirm or NO if that time does not work.")


def confirm_visit(ticket: Ticket, vendor, appointment) -> str:
    """To the tenant each time a visit's time is set or changed."""
    return _("Fixline: %(vendor)s will come for your %(category)s repair %(when)s. %(ask)s",
             vendor=typed(vendor.name), category=_category(ticket), when=_when(appointment),
             ask=_(CONFIRM_ASK))


def visit_moved_vendor(ticket: Ticket, appointment, code: str | None) -> str:
    """To the vendor when the landlord sets or moves their visit."""
    return _("%(name)s: the visit at %(address)s is now %(when)s. We asked the tenant to "
             "confirm.", name=_job_name(code), address=typed(ticket.property.address),
             when=_when(appointment))


def visit_confirmed_vendor(ticket: Ticket, appointment, code: str | None) -> str:
    """To the vendor once the tenant confirms the time."""
    return _("%(name)s: %(tenant)s confirmed the visit %(when)s at %(address)s.",
             name=_job_name(code), tenant=typed(ticket.tenant.name), when=_when(appointment),
             address=typed(ticket.property.address))


def visit_refused_vendor(ticket: Ticket, appointment, code: str | None) -> str:
    """To the vendor when the tenant cannot make the time."""
    how = (_("Reply TIME %(code)s <when> with another time", code=code) if code
           else _("Set another time"))
    return _("%(name)s: %(tenant)s cannot make %(when)s. %(how)s (like tomorrow 9am), or call "
             "them at %(phone)s.", name=_job_name(code), tenant=typed(ticket.tenant.name),
             when=_when(appointment), how=how, phone=ticket.tenant.phone)


def reminder_tenant(ticket: Ticket, appointment) -> str:
    """A reminder of the coming visit to the tenant."""
    return _("Fixline reminder: %(vendor)s comes for your %(category)s repair %(when)s.",
             vendor=typed(appointment.vendor.name), category=_category(ticket),
             when=_when(appointment))


def reminder_vendor(ticket: Ticket, appointment, code: str | None) -> str:
    """A reminder of the coming visit to the vendor."""
    return _("%(name)s reminder: %(job)s, %(when)s. Tenant %(tenant)s, %(phone)s.",
             name=_job_name(code), job=_job(ticket), when=_when(appointment),
             tenant=typed(ticket.tenant.name), phone=ticket.tenant.phone)


def did_they_come(vendor) -> str:
    """The no-show question to the tenant, after the visit's end and the grace."""
    return _("Fixline: Did %(vendor)s come? Reply YES or NO.", vendor=typed(vendor.name))


def _day(day) -> str:
    if current() == DEFAULT:
        return day.strftime("%b %-d, %Y")
    return format_datetime(day, "d 'de' MMM 'de' y", locale=current())


def insurance_vendor(expires, landlord) -> str:
    """To a vendor 30 and 7 days before the insurance on file expires (§10)."""
    return _("Fixline: your insurance on file expires %(day)s. Send your renewed certificate "
             "to %(landlord)s to keep getting jobs.", day=_day(expires),
             landlord=plain(landlord.name, 100))


def daily_digest(landlord, digest, link: str) -> str:
    """The landlord's morning email (digests.py): the last day and what waits on them."""
    def count(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    waiting = [part for n, part in (
        (digest.escalated_open, count(digest.escalated_open, "escalated ticket waits",
                                      "escalated tickets wait") + " on you"),
        (digest.quotes_waiting, count(digest.quotes_waiting, "quote", "quotes") + " to approve"),
        (digest.visits_today, count(digest.visits_today, "visit", "visits")
         + " in the next 24 hours")) if n]
    return (f"Fixline daily digest for {typed(landlord.name)}: "
            f"{count(digest.reported, 'ticket', 'tickets')} reported and "
            f"{digest.booked} booked in the last day."
            + (f" {'; '.join(waiting)}." if waiting else "") + f" {link}/")


def insurance_landlord(vendor, expires, days: int) -> str:
    """To the landlord 30 and 7 days before a vendor's insurance expires (§10); days: how
    many are left (fewer when the notice went late)."""
    left = {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")
    return (f"Fixline: {plain(vendor.name, 100)}'s insurance expires {_day(expires)} ({left}). "
            "After that they are not sent jobs.")


def rate_visit(ticket: Ticket, vendor, *, by: str = "vendor") -> str:
    """To the tenant when the job is marked done: by the vendor, the landlord, or the tenant
    themself (their YES to "did they come")."""
    if by == "tenant":
        return _("Fixline: thanks, %(vendor)s's visit for your %(category)s repair is done. "
                 "%(ask)s", vendor=typed(vendor.name), category=_category(ticket),
                 ask=_(RATE_ASK))
    if by == "landlord":
        return _("Fixline: your landlord marked your %(category)s repair done. %(ask)s",
                 category=_category(ticket), ask=_(RATE_ASK))
    return _("Fixline: %(vendor)s marked your %(category)s repair done. %(ask)s",
             vendor=typed(vendor.name), category=_category(ticket), ask=_(RATE_ASK))


def reopened_landlord(ticket: Ticket, vendor, link: str) -> str:
    """To the landlord when the tenant says the repair is not fixed."""
    return (f"Fixline: the tenant says the {ticket.category} repair at "
            f"{typed(ticket.property.address)} is not fixed. We are asking {typed(vendor.name)} "
            f"to come back first. {link}")


def visit_cancelled_tenant(ticket: Ticket, vendor, *, by_vendor: bool = True) -> str:
    """To the tenant when the vendor hands their visit back, or the landlord cancels it."""
    if by_vendor:
        return _("Fixline: %(vendor)s can no longer come for your %(category)s repair. We are "
                 "finding another vendor and will text you.", vendor=typed(vendor.name),
                 category=_category(ticket))
    return _("Fixline: your landlord cancelled %(vendor)s's visit for your %(category)s "
             "repair. We are finding another vendor and will text you.",
             vendor=typed(vendor.name), category=_category(ticket))


def handed_back_landlord(ticket: Ticket, vendor, reason: str | None, link: str) -> str:
    """To the landlord when the vendor hands the job back."""
    return (f"Fixline: {typed(vendor.name)} handed back the {ticket.category} job at "
            f"{typed(ticket.property.address)}.{_reason(reason)} We are asking the next vendor. "
            f"{link}")


def visit_cancelled_vendor(ticket: Ticket, appointment, code: str | None,
                           reason: str | None) -> str:
    """To the vendor when the landlord cancels their visit (the ticket stays open)."""
    return _("%(name)s: the landlord cancelled your visit for %(job)s, so please do not go."
             "%(reason)s", name=_job_name(code), job=_job(ticket), reason=_reason(reason))


def no_show_landlord(ticket: Ticket, vendor, link: str) -> str:
    """To the landlord when the tenant says the vendor did not come."""
    return (f"Fixline: the tenant says {typed(vendor.name)} did not come for the {ticket.category} "
            f"job at {typed(ticket.property.address)}. We are asking the next vendor. {link}")


def no_show_vendor(ticket: Ticket, code: str | None) -> str:
    """To the vendor the tenant reported as a no-show."""
    return _("%(name)s: the tenant says nobody came, so the job at %(address)s went to another "
             "vendor.", name=_job_name(code), address=typed(ticket.property.address))


def reply_time_set(code: str, appointment) -> str:
    return _("Job %(code)s: visit set for %(when)s. We asked the tenant to confirm.", code=code,
             when=_when(appointment))


def reply_time_unreadable(code: str | None, problem: str) -> str:
    if code:
        return _("%(problem)s Reply TIME %(code)s <when>, for example TIME %(code)s tomorrow "
                 "9:30am.", problem=problem, code=code)
    return _("%(problem)s Reply TIME <code> <when>, for example TIME <code> tomorrow 9:30am.",
             problem=problem)


def reply_yes_unreadable(code: str, problem: str) -> str:
    return _("%(problem)s Nothing changed: reply YES %(code)s to take the job, or YES %(code)s "
             "<when>, for example YES %(code)s tomorrow 9:30am.", problem=problem, code=code)


def reply_done(code: str | None) -> str:
    if code:
        return _("Thanks: job %(code)s is marked done. We asked the tenant to rate it.",
                 code=code)
    return _("Thanks: the job is marked done. We asked the tenant to rate it.")


def reply_handed_back(code: str | None) -> str:
    if code:
        return _("OK: you handed back job %(code)s. We told the landlord and the tenant and are "
                 "asking another vendor.", code=code)
    return _("OK: you handed back the job. We told the landlord and the tenant and are asking "
             "another vendor.")


def reply_already_handed_back(code: str | None) -> str:
    """To a vendor's word about a visit they cancelled themselves (not the landlord)."""
    if code:
        return _("Job %(code)s is cancelled: you handed it back. No action needed, thanks.",
                 code=code)
    return _("That job is cancelled: you handed it back. No action needed, thanks.")


def reply_no_visit(code: str | None) -> str:
    if code:
        return _("You do not hold job %(code)s, so there is no visit to change.", code=code)
    return _("You hold no job with a visit to change. Reply with the code from our message.")


def reply_visit_confirmed(appointment) -> str:
    return _("Thanks: your visit with %(vendor)s %(when)s is confirmed.",
             vendor=typed(appointment.vendor.name), when=_when(appointment))


def reply_visit_refused(appointment) -> str:
    return _("OK: we asked %(vendor)s to propose another time and will text you when they do.",
             vendor=typed(appointment.vendor.name))


def reply_rated(rating: int) -> str:
    return _("Thanks for rating the visit %(rating)s/5.", rating=rating)


def reply_reopened(vendor) -> str:
    return _("Sorry it is not fixed. We reopened your request and are asking %(vendor)s to come "
             "back first; your landlord has been told.", vendor=typed(vendor.name))


def reply_not_reopened() -> str:
    return _("Fixline could not reopen that repair here. Please contact your landlord.")


def reply_came_yes() -> str:
    return _("Thanks for telling us.")


def reply_came_no() -> str:
    return _("Sorry about that. We told your landlord and are finding another vendor.")


def reply_question_again(kind: str, appointment) -> str:
    """A reply Fixline could not read as an answer to the tenant's open question."""
    if kind == "confirm":
        return _("Sorry, we did not understand. %(when)s: %(ask)s", when=_when(appointment),
                 ask=_(CONFIRM_ASK))
    if kind == "came":
        return _("Sorry, we did not understand. Did %(vendor)s come? Reply YES or NO.",
                 vendor=typed(appointment.vendor.name))
    return _("Sorry, we did not understand. %(ask)s", ask=_(RATE_ASK))


# -- quotes and the landlord's answers (CONTRACT.md §11) ---------------------------------

def money(amount: Decimal) -> str:
    """An amount as money, exactly: $1,234.50 (a Decimal, never a float)."""
    return show_money(amount)


def quote_landlord(ticket: Ticket, quote, vendor) -> str:
    """To the landlord when a quote is over the property's limit: approve or deny by number."""
    return (f"{typed(vendor.name)} quotes {money(quote.amount)} for {ticket.category} at "
            f"{typed(ticket.property.address)} (limit {money(quote.approval_limit)}). "
            f"Reply APPROVE {quote.id} or DENY {quote.id}.")


def quote_decided_vendor(ticket: Ticket, quote, code: str | None, approved: bool) -> str:
    """To the vendor once the landlord approves or denies their quote."""
    if approved:
        return _("%(name)s: the landlord approved your quote of %(amount)s for %(job)s. Go "
                 "ahead.", name=_job_name(code), amount=money(quote.amount), job=_job(ticket))
    landlord = ticket.landlord
    return _("%(name)s: the landlord denied your quote of %(amount)s for %(job)s, so do not "
             "start that work. Questions: %(landlord)s, %(phone)s.", name=_job_name(code),
             amount=money(quote.amount), job=_job(ticket), landlord=typed(landlord.name),
             phone=landlord.phone)


def quote_outcome(quote) -> str:
    """Where a vendor's quote stands, in their words (an SMS answer, the job page)."""
    amount = money(quote.amount)
    if quote.status == "approved" and quote.decided_by == "auto":
        return _("your quote of %(amount)s is approved at once. Go ahead.", amount=amount)
    if quote.status == "approved":
        return _("the landlord approved your quote of %(amount)s. Go ahead.", amount=amount)
    if quote.status == "denied":
        return _("the landlord denied your quote of %(amount)s, so do not start that work.",
                 amount=amount)
    if quote.status == "replaced":
        return _("your quote of %(amount)s was replaced by a newer one.", amount=amount)
    return _("your quote of %(amount)s was sent to the landlord for approval. We will text you "
             "their answer.", amount=amount)


def reply_quoted(code: str | None, quote) -> str:
    """To the vendor who quoted: approved at once, or waiting for the landlord."""
    if code:
        return _("Job %(code)s: %(outcome)s", code=code, outcome=quote_outcome(quote))
    return _("Your job: %(outcome)s", outcome=quote_outcome(quote))


def reply_quote_unreadable(code: str | None, problem: str) -> str:
    if code:
        return _("%(problem)s Nothing changed: reply QUOTE %(code)s <amount>, for example QUOTE "
                 "%(code)s 350.50.", problem=problem, code=code)
    return _("%(problem)s Nothing changed: reply QUOTE <code> <amount>, for example QUOTE "
             "<code> 350.50.", problem=problem)


def reply_quote_not_held(code: str | None) -> str:
    if code:
        return _("You do not hold job %(code)s, so there is nothing to quote for.", code=code)
    return _("You hold no job to quote for. Reply QUOTE <code> <amount> with the code from our "
             "message.")


def reply_quote_decided(ticket: Ticket, quote, vendor, outcome: str) -> str:
    """To the landlord whose APPROVE or DENY (or a repeat of it) was carried out."""
    what = (f"{typed(vendor.name)}'s quote {quote.id} of {money(quote.amount)} for "
            f"{ticket.category} at {typed(ticket.property.address)}")
    if outcome == "already":
        return f"Quote {quote.id} is already {quote.status}; nothing changed."
    return f"{outcome.capitalize()}: {what}. We told {typed(vendor.name)}."


def reply_quote_closed(quote, newer=None) -> str:
    """To the landlord deciding a quote that was replaced, or decided the other way."""
    if quote.status != "replaced":
        return f"Quote {quote.id} was already {quote.status}, so nothing changed."
    text = f"Quote {quote.id} was replaced by a newer quote, so nothing changed."
    if newer is not None and newer.status == "pending":
        text += (f" The newer one is {money(newer.amount)}: reply APPROVE {newer.id} or "
                 f"DENY {newer.id}.")
    return text


def reply_no_quote(number: str | None) -> str:
    """To an APPROVE or DENY that names no quote of this landlord's waiting (or from a phone
    that is no landlord's): the same words whether or not such a quote exists elsewhere."""
    if number:
        return f"Fixline has no quote {number} waiting for you, so nothing changed."
    return "Fixline has no quote waiting for your approval, so nothing changed."


def reply_dispatched_again(ticket: Ticket, ping) -> str:
    """To the landlord whose AGAIN asked a vendor."""
    return (f"OK: we are asking {typed(ping.vendor.name)} about ticket {ticket.id}, the "
            f"{ticket.category} job at {typed(ticket.property.address)}, and will text you when a "
            "vendor takes it.")


def reply_nobody_fits(ticket: Ticket) -> str:
    return (f"No vendor matches ticket {ticket.id}, the {ticket.category} job at "
            f"{typed(ticket.property.address)}, so nobody was asked; it stays with you.")


def reply_not_dispatched(ticket_id: int, problem: str) -> str:
    """To an AGAIN that changed nothing, with why (the ticket is the landlord's own)."""
    return f"Nothing changed for ticket {ticket_id}: {problem.rstrip('.')}."


def reply_no_ticket(number: str | None) -> str:
    """To an AGAIN naming no ticket of this landlord's (or from a phone that is no
    landlord's): the same words whether or not that ticket exists elsewhere."""
    if number:
        return f"Fixline has no ticket {number} of yours to dispatch again, so nothing changed."
    return ("Fixline has no escalated ticket of yours to dispatch again. Reply AGAIN <ticket "
            "number> from our message.")


HELP = {  # by who texted: vendor, tenant, landlord, or a number Fixline does not know
    "vendor": N_("Fixline sends maintenance jobs. Reply YES <code> to take one, NO <code> to "
                 "pass, TIME <code> <when> to set the visit, QUOTE <code> <amount> to price it, "
                 "DONE <code> when finished, CANCEL <code> to hand it back, STOP to stop "
                 "messages, START to resume."),
    "tenant": N_("Fixline texts you about repairs at your home. To report a problem, use the "
                 "link your landlord gave you. Reply STOP to stop these texts."),
    "landlord": "Fixline texts you when a repair needs you; the dashboard has the details. "
                "Reply APPROVE <n> or DENY <n> to a quote, AGAIN <ticket> to ask every vendor "
                "again, STOP to stop these texts.",
    "unknown": "This is Fixline, a maintenance dispatch service. We do not know this number: "
               "vendors, answer from the phone our offers reach. Reply STOP for no messages.",
}
STOPPED = {
    "vendor": N_("You will get no more Fixline jobs. Reply START to receive them again."),
    "tenant": N_("You will get no more texts from Fixline about your repairs. Reply START to "
                 "get them again."),
    "landlord": "You will get no more Fixline alerts by text. Reply START to get them again.",
    "unknown": "You will get no more messages from Fixline. Reply START to get them again.",
}
STARTED = {
    "vendor": N_("Welcome back: you will get Fixline jobs again. Reply HELP for help."),
    "tenant": N_("Welcome back: Fixline will text you about your repairs again."),
    "landlord": "Welcome back: Fixline will text you alerts again.",
    "unknown": "Welcome back: you will get Fixline messages again.",
}
SPEAKERS = frozenset({"vendor", "tenant"})  # who has a language; landlords and strangers: English


def _by_role(texts: dict[str, str], role: str) -> str:
    return _(texts[role]) if role in SPEAKERS else texts[role]


def reply_help(role: str = "vendor") -> str:
    return _by_role(HELP, role)


def reply_unknown() -> str:
    return _("Sorry, we did not understand. Reply YES <code> to take the job or NO <code> to "
             "pass.")


def reply_stopped(role: str = "vendor") -> str:
    return _by_role(STOPPED, role)


def reply_started(role: str = "vendor") -> str:
    return _by_role(STARTED, role)


NOT_MESSAGES = {"plain", "money", "N_"}  # helpers, not message bodies
SPOKEN = {"vendor_offer_spoken", "escalated_landlord_spoken"}  # read out on a call
TO_LANDLORDS = {  # read only by landlords: English whatever the language of the moment
    "booked_landlord", "escalated_landlord", "escalated_landlord_spoken", "still_nobody_landlord",
    "reply_acknowledged", "reply_nothing_to_acknowledge", "daily_digest", "insurance_landlord",
    "reopened_landlord", "handed_back_landlord", "no_show_landlord", "quote_landlord",
    "reply_quote_decided",
    "reply_quote_closed", "reply_no_quote", "reply_dispatched_again", "reply_nobody_fits",
    "reply_not_dispatched", "reply_no_ticket"}


def _fitted(template, finish, english: bool):
    """template rendered in lang= (else the language of the moment; English for landlords'
    texts), its body passed through finish (gsm.fit or gsm.plain_text)."""
    def body(*args, lang: str | None = None, **kwargs) -> str:
        with speaking(DEFAULT if english else (lang or current())) as language:
            text = template(*args, **kwargs)
            if finish is fit:
                return fit(text, words_too=language != DEFAULT)
            return finish(text)

    body.__name__, body.__doc__, body.__wrapped__ = template.__name__, template.__doc__, template
    return body


for _name, _template in list(globals().items()):
    if (callable(_template) and getattr(_template, "__module__", None) == __name__
            and not _name.startswith("_") and _name not in NOT_MESSAGES):
        globals()[_name] = _fitted(_template, plain_text if _name in SPOKEN else fit,
                                   _name in TO_LANDLORDS)
