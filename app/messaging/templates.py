"""The words Fixline sends: one function per message, so wording lives in one place.

Text a person typed (names, addresses, windows, reasons) is marked with typed() or plain();
every public function's body is fitted when this module loads (_fitted, at the end): GSM-7
and at most two segments, typed parts transliterated or shortened, the template's own words
kept. Spoken messages (calls) only lose the marks.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.messaging.gsm import fit, plain_text, typed
from app.models import Ticket
from app.money import show as show_money


def _job(ticket: Ticket) -> str:
    return f"{ticket.category} ({ticket.severity}) at {typed(ticket.property.address)}"


def plain(text: str, limit: int = 500) -> str:
    """Something a person typed, on one line and at most limit characters, marked so the
    message is fitted around it (gsm.fit: GSM-7, at most two segments; CONTRACT §13)."""
    return typed(" ".join(text.split())[:limit])


def _reason(reason: str | None) -> str:
    said = " ".join((reason or "").split()).rstrip(".")
    return f" Reason: {typed(said)}." if said else ""


def vendor_offer(ticket: Ticket, code: str, link: str | None = None) -> str:
    """The SMS offering a job to a vendor (CONTRACT.md §7), with its job page (§9)."""
    page = f" Details: {link}" if link else ""
    return (f"Fixline job {code}: {_job(ticket)}, tenant available {plain(ticket.window)}. "
            f"Reply YES {code} to take it or NO {code} to pass.{page}")


def vendor_offer_spoken(ticket: Ticket, code: str) -> str:
    """The same offer read out on a call; the keypad answers it (1 takes, 2 passes)."""
    spelled = " ".join(code)
    return (f"Hello, this is Fixline with job {spelled}: {_job(ticket)}. "
            f"The tenant is available {typed(ticket.window)}. "
            "Press 1 to take the job, or press 2 to pass.")


def _when(appointment) -> str:
    if appointment.starts_at is None:
        return "at a time they will confirm with you"
    tz = ZoneInfo(appointment.ticket.property.timezone)
    start = appointment.starts_at.replace(tzinfo=UTC).astimezone(tz)
    text = start.strftime("%a %b %-d, %-I:%M %p").replace(":00 ", " ")
    if appointment.ends_at is not None:
        end = appointment.ends_at.replace(tzinfo=UTC).astimezone(tz)
        text += "-" + end.strftime("%-I:%M %p").replace(":00 ", " ")
    return text


def _confirm_ask(appointment) -> str:
    return f" {CONFIRM_ASK}" if appointment.starts_at is not None else ""


def booked_tenant(ticket: Ticket, vendor, appointment) -> str:
    """To the tenant once a vendor has taken the job (asking them to confirm a set time)."""
    return (f"Fixline: {typed(vendor.name)} will come for your {ticket.category} problem, "
            f"{_when(appointment)}. Your landlord has been told.{_confirm_ask(appointment)}")


def booked_tenant_by_landlord(ticket: Ticket, vendor, appointment) -> str:
    """To the tenant once the landlord has booked a vendor by hand (or through the API)."""
    return (f"Fixline: your landlord booked {typed(vendor.name)} for your {ticket.category} "
            f"problem, {_when(appointment)}.{_confirm_ask(appointment)}")


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
        return "no visit time set yet: agree one with the tenant"
    return _when(appointment)


def vendor_booked(ticket: Ticket, appointment, landlord, code: str | None = None) -> str:
    """To a vendor the landlord booked by hand: the job, when, the tenant and who booked it.

    No offer of theirs was accepted, so it names the job by its offer's code only when they
    had one for this ticket; otherwise by what and where.
    """
    tenant = ticket.tenant
    name = f"Fixline job {code}" if code else "Fixline"
    return (f"{name}: {typed(landlord.name)} booked you for {_job(ticket)}, {_visit(appointment)}. "
            f"Tenant {typed(tenant.name)}, {tenant.phone}, available {typed(ticket.window)}. "
            f"Questions: {typed(landlord.name)}, {landlord.phone}.")


def cancelled_vendor(ticket: Ticket, appointment, code: str | None, reason: str | None) -> str:
    """To the vendor booked for a job the landlord cancelled."""
    name = f"job {code}" if code else "the job"
    return (f"Fixline: {name}, {_job(ticket)} ({_when(appointment)}), is cancelled by the "
            f"landlord, so please do not go.{_reason(reason)}")


def offer_cancelled(code: str, reason: str | None) -> str:
    """To a vendor holding an open offer for a job the landlord cancelled."""
    return f"Fixline job {code} is cancelled by the landlord.{_reason(reason)} No need to answer."


def cancelled_tenant(ticket: Ticket, vendor, reason: str | None) -> str:
    """To the tenant when the landlord cancels their report."""
    coming = f" {typed(vendor.name)} will not come." if vendor is not None else ""
    return (f"Fixline: your landlord cancelled your {ticket.category} repair request."
            f"{_reason(reason)}{coming} Questions: ask your landlord.")


def completed_tenant(ticket: Ticket, vendor) -> str:
    """To the tenant when the landlord marks the job done."""
    by = f" by {typed(vendor.name)}" if vendor is not None else ""
    return (f"Fixline: your landlord marked the {ticket.category} repair{by} as done. "
            "If it is not fixed, tell your landlord.")


def offer_lapsed(code: str) -> str:
    """To a vendor whose offer timed out: not booked, but a late YES may still win it."""
    return (f"Fixline job {code}: the offer expired and we are asking another vendor. Reply "
            f"YES {code} if you can still take it.")


def job_filled(code: str) -> str:
    """To a vendor whose offer was overtaken by someone else's YES."""
    return f"Fixline job {code} has been filled by another vendor. No action needed, thanks."


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
    return (f"Fixline: we have not booked a vendor for your {ticket.category} problem yet, "
            "so your landlord has been alerted and is on it.")


def reply_booked(ping, appointment=None, link: str | None = None) -> str:
    """To the vendor whose YES won: the job, the tenant, and the visit time or how to set it."""
    ticket = ping.ticket
    text = (f"You have job {ping.code}: {_job(ticket)}. Tenant {typed(ticket.tenant.name)}, "
            f"{ticket.tenant.phone}, available {plain(ticket.window)}.")
    if appointment is not None and appointment.starts_at is not None:
        text += (f" Visit {_when(appointment)}; we asked the tenant to confirm. Reply "
                 f"DONE {ping.code} when finished, CANCEL {ping.code} if you cannot go.")
    else:
        text += (f" Reply TIME {ping.code} <when> (like TIME {ping.code} tomorrow 9am) to set "
                 "the visit.")
    return text + (f" {link}" if link else "")


def reply_filled(code: str) -> str:
    return f"Sorry, job {code} has already been filled. Thanks for answering."


def reply_declined(code: str) -> str:
    return f"OK, you passed on job {code}. Thanks."


def reply_holding(code: str, landlord) -> str:
    """A NO from the vendor who holds the job: it stays theirs until they hand it back."""
    return (f"You still have job {code}: a NO does not hand it back. If you cannot do it, "
            f"reply CANCEL {code}, or call {typed(landlord.name)} at {landlord.phone}.")


def reply_job_cancelled(code: str) -> str:
    return f"Job {code} was cancelled by the landlord. No action needed, thanks."


def reply_job_done(code: str) -> str:
    return f"Job {code} is already marked done. No action needed, thanks."


def reply_not_open(code: str) -> str:
    return f"Job {code} is no longer open to you. No action needed, thanks."


def reply_no_job(code: str | None) -> str:
    if code:
        return f"Fixline has no job {code} for you. Reply with the code from our message."
    return "Fixline has no open job for you right now."


# -- the visit (CONTRACT.md §9) ----------------------------------------------------------

RATE_ASK = "Is it fixed? Reply 1-5 to rate the visit (5 = great), or NOT FIXED."
CONFIRM_ASK = "Reply YES to confirm or NO if that time does not work."


def _job_code(code: str | None) -> str:
    return f"Fixline job {code}" if code else "Fixline"


def confirm_visit(ticket: Ticket, vendor, appointment) -> str:
    """To the tenant each time a visit's time is set or changed."""
    return (f"Fixline: {typed(vendor.name)} will come for your {ticket.category} repair "
            f"{_when(appointment)}. {CONFIRM_ASK}")


def visit_moved_vendor(ticket: Ticket, appointment, code: str | None) -> str:
    """To the vendor when the landlord sets or moves their visit."""
    return (f"{_job_code(code)}: the visit at {typed(ticket.property.address)} is now "
            f"{_when(appointment)}. We asked the tenant to confirm.")


def visit_confirmed_vendor(ticket: Ticket, appointment, code: str | None) -> str:
    """To the vendor once the tenant confirms the time."""
    return (f"{_job_code(code)}: {typed(ticket.tenant.name)} confirmed the visit "
            f"{_when(appointment)} at {typed(ticket.property.address)}.")


def visit_refused_vendor(ticket: Ticket, appointment, code: str | None) -> str:
    """To the vendor when the tenant cannot make the time."""
    how = f"Reply TIME {code} <when> with another time" if code else "Set another time"
    return (f"{_job_code(code)}: {typed(ticket.tenant.name)} cannot make {_when(appointment)}. "
            f"{how} (like tomorrow 9am), or call them at {ticket.tenant.phone}.")


def reminder_tenant(ticket: Ticket, appointment) -> str:
    """A reminder of the coming visit to the tenant."""
    return (f"Fixline reminder: {typed(appointment.vendor.name)} comes for your {ticket.category} "
            f"repair {_when(appointment)}.")


def reminder_vendor(ticket: Ticket, appointment, code: str | None) -> str:
    """A reminder of the coming visit to the vendor."""
    return (f"{_job_code(code)} reminder: {_job(ticket)}, {_when(appointment)}. Tenant "
            f"{typed(ticket.tenant.name)}, {ticket.tenant.phone}.")


def did_they_come(vendor) -> str:
    """The no-show question to the tenant, after the visit's end and the grace."""
    return f"Fixline: Did {typed(vendor.name)} come? Reply YES or NO."


def _day(day) -> str:
    return day.strftime("%b %-d, %Y")


def insurance_vendor(expires, landlord) -> str:
    """To a vendor 30 and 7 days before the insurance on file expires (§10)."""
    return (f"Fixline: your insurance on file expires {_day(expires)}. Send your renewed "
            f"certificate to {plain(landlord.name, 100)} to keep getting jobs.")


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
    """To the landlord 30 and 7 days before a vendor's insurance expires (§10)."""
    return (f"Fixline: {plain(vendor.name, 100)}'s insurance expires {_day(expires)} (in "
            f"{days} days). After that they are not sent jobs.")


def rate_visit(ticket: Ticket, vendor, *, by: str = "vendor") -> str:
    """To the tenant when the job is marked done: by the vendor, the landlord, or the tenant
    themself (their YES to "did they come")."""
    if by == "tenant":
        return (f"Fixline: thanks, {typed(vendor.name)}'s visit for your {ticket.category} "
                f"repair is done. {RATE_ASK}")
    who = "your landlord marked" if by == "landlord" else f"{typed(vendor.name)} marked"
    return f"Fixline: {who} your {ticket.category} repair done. {RATE_ASK}"


def reopened_landlord(ticket: Ticket, vendor, link: str) -> str:
    """To the landlord when the tenant says the repair is not fixed."""
    return (f"Fixline: the tenant says the {ticket.category} repair at "
            f"{typed(ticket.property.address)} is not fixed. We are asking {typed(vendor.name)} "
            f"to come back first. {link}")


def visit_cancelled_tenant(ticket: Ticket, vendor, *, by_vendor: bool = True) -> str:
    """To the tenant when the vendor hands their visit back, or the landlord cancels it."""
    what = (f"{typed(vendor.name)} can no longer come" if by_vendor
            else f"your landlord cancelled {typed(vendor.name)}'s visit")
    return (f"Fixline: {what} for your {ticket.category} repair. We are finding another "
            "vendor and will text you.")


def handed_back_landlord(ticket: Ticket, vendor, reason: str | None, link: str) -> str:
    """To the landlord when the vendor hands the job back."""
    return (f"Fixline: {typed(vendor.name)} handed back the {ticket.category} job at "
            f"{typed(ticket.property.address)}.{_reason(reason)} We are asking the next vendor. "
            f"{link}")


def visit_cancelled_vendor(ticket: Ticket, appointment, code: str | None,
                           reason: str | None) -> str:
    """To the vendor when the landlord cancels their visit (the ticket stays open)."""
    return (f"{_job_code(code)}: the landlord cancelled your visit for {_job(ticket)}, so "
            f"please do not go.{_reason(reason)}")


def no_show_landlord(ticket: Ticket, vendor, link: str) -> str:
    """To the landlord when the tenant says the vendor did not come."""
    return (f"Fixline: the tenant says {typed(vendor.name)} did not come for the {ticket.category} "
            f"job at {typed(ticket.property.address)}. We are asking the next vendor. {link}")


def no_show_vendor(ticket: Ticket, code: str | None) -> str:
    """To the vendor the tenant reported as a no-show."""
    return (f"{_job_code(code)}: the tenant says nobody came, so the job at "
            f"{typed(ticket.property.address)} went to another vendor.")


def reply_time_set(code: str, appointment) -> str:
    return f"Job {code}: visit set for {_when(appointment)}. We asked the tenant to confirm."


def reply_time_unreadable(code: str | None, problem: str) -> str:
    word = f"TIME {code}" if code else "TIME <code>"
    return f"{problem} Reply {word} <when>, for example {word} tomorrow 9:30am."


def reply_yes_unreadable(code: str, problem: str) -> str:
    return (f"{problem} Nothing changed: reply YES {code} to take the job, or YES {code} <when>, "
            f"for example YES {code} tomorrow 9:30am.")


def _the_job(code: str | None) -> str:
    return f"job {code}" if code else "the job"


def reply_done(code: str | None) -> str:
    return f"Thanks: {_the_job(code)} is marked done. We asked the tenant to rate it."


def reply_handed_back(code: str | None) -> str:
    return (f"OK: you handed back {_the_job(code)}. We told the landlord and the tenant and are "
            "asking another vendor.")


def reply_already_handed_back(code: str | None) -> str:
    """To a vendor's word about a visit they cancelled themselves (not the landlord)."""
    job = f"Job {code}" if code else "That job"
    return f"{job} is cancelled: you handed it back. No action needed, thanks."


def reply_no_visit(code: str | None) -> str:
    if code:
        return f"You do not hold job {code}, so there is no visit to change."
    return "You hold no job with a visit to change. Reply with the code from our message."


def reply_visit_confirmed(appointment) -> str:
    return (f"Thanks: your visit with {typed(appointment.vendor.name)} {_when(appointment)} "
            "is confirmed.")


def reply_visit_refused(appointment) -> str:
    return (f"OK: we asked {typed(appointment.vendor.name)} to propose another time and will "
            "text you when they do.")


def reply_rated(rating: int) -> str:
    return f"Thanks for rating the visit {rating}/5."


def reply_reopened(vendor) -> str:
    return (f"Sorry it is not fixed. We reopened your request and are asking "
            f"{typed(vendor.name)} to come back first; your landlord has been told.")


def reply_not_reopened() -> str:
    return "Fixline could not reopen that repair here. Please contact your landlord."


def reply_came_no() -> str:
    return "Sorry about that. We told your landlord and are finding another vendor."


def reply_question_again(kind: str, appointment) -> str:
    """A reply Fixline could not read as an answer to the tenant's open question."""
    if kind == "confirm":
        return f"Sorry, we did not understand. {_when(appointment)}: {CONFIRM_ASK}"
    if kind == "came":
        return (f"Sorry, we did not understand. Did {typed(appointment.vendor.name)} come? "
                "Reply YES or NO.")
    return f"Sorry, we did not understand. {RATE_ASK}"


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
        return (f"{_job_code(code)}: the landlord approved your quote of {money(quote.amount)} "
                f"for {_job(ticket)}. Go ahead.")
    landlord = ticket.landlord
    return (f"{_job_code(code)}: the landlord denied your quote of {money(quote.amount)} for "
            f"{_job(ticket)}, so do not start that work. Questions: {typed(landlord.name)}, "
            f"{landlord.phone}.")


def quote_outcome(quote) -> str:
    """Where a vendor's quote stands, in their words (an SMS answer, the job page)."""
    amount = money(quote.amount)
    if quote.status == "approved" and quote.decided_by == "auto":
        return f"your quote of {amount} is approved at once. Go ahead."
    if quote.status == "approved":
        return f"the landlord approved your quote of {amount}. Go ahead."
    if quote.status == "denied":
        return f"the landlord denied your quote of {amount}, so do not start that work."
    if quote.status == "replaced":
        return f"your quote of {amount} was replaced by a newer one."
    return (f"your quote of {amount} was sent to the landlord for approval. We will text you "
            "their answer.")


def reply_quoted(code: str | None, quote) -> str:
    """To the vendor who quoted: approved at once, or waiting for the landlord."""
    return f"{f'Job {code}' if code else 'Your job'}: {quote_outcome(quote)}"


def reply_quote_unreadable(code: str | None, problem: str) -> str:
    word = f"QUOTE {code}" if code else "QUOTE <code>"
    return f"{problem} Nothing changed: reply {word} <amount>, for example {word} 350.50."


def reply_quote_not_held(code: str | None) -> str:
    if code:
        return f"You do not hold job {code}, so there is nothing to quote for."
    return ("You hold no job to quote for. Reply QUOTE <code> <amount> with the code from our "
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
    "vendor": "Fixline sends maintenance jobs. Reply YES <code> to take one, NO <code> to pass, "
              "TIME <code> <when> to set the visit, QUOTE <code> <amount> to price it, DONE "
              "<code> when finished, CANCEL <code> to hand it back, STOP to stop messages, "
              "START to resume.",
    "tenant": "Fixline texts you about repairs at your home. To report a problem, use the link "
              "your landlord gave you. Reply STOP to stop these texts.",
    "landlord": "Fixline texts you when a repair needs you; the dashboard has the details. "
                "Reply APPROVE <n> or DENY <n> to a quote, AGAIN <ticket> to ask every vendor "
                "again, STOP to stop these texts.",
    "unknown": "This is Fixline, a maintenance dispatch service. We do not know this number: "
               "vendors, answer from the phone our offers reach. Reply STOP for no messages.",
}
STOPPED = {
    "vendor": "You will get no more Fixline jobs. Reply START to receive them again.",
    "tenant": "You will get no more texts from Fixline about your repairs. Reply START to get "
              "them again.",
    "landlord": "You will get no more Fixline alerts by text. Reply START to get them again.",
    "unknown": "You will get no more messages from Fixline. Reply START to get them again.",
}
STARTED = {
    "vendor": "Welcome back: you will get Fixline jobs again. Reply HELP for help.",
    "tenant": "Welcome back: Fixline will text you about your repairs again.",
    "landlord": "Welcome back: Fixline will text you alerts again.",
    "unknown": "Welcome back: you will get Fixline messages again.",
}


def reply_help(role: str = "vendor") -> str:
    return HELP[role]


def reply_unknown() -> str:
    return "Sorry, we did not understand. Reply YES <code> to take the job or NO <code> to pass."


def reply_stopped(role: str = "vendor") -> str:
    return STOPPED[role]


def reply_started(role: str = "vendor") -> str:
    return STARTED[role]


NOT_MESSAGES = {"plain", "money"}  # helpers, not message bodies
SPOKEN = {"vendor_offer_spoken", "escalated_landlord_spoken"}  # read out on a call


def _fitted(template, finish):
    """template, its body passed through finish (gsm.fit or gsm.plain_text)."""
    def body(*args, **kwargs) -> str:
        return finish(template(*args, **kwargs))

    body.__name__, body.__doc__, body.__wrapped__ = template.__name__, template.__doc__, template
    return body


for _name, _template in list(globals().items()):
    if (callable(_template) and getattr(_template, "__module__", None) == __name__
            and not _name.startswith("_") and _name not in NOT_MESSAGES):
        globals()[_name] = _fitted(_template, plain_text if _name in SPOKEN else fit)
