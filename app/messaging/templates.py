"""The words Fixline sends: one function per message, so wording lives in one place."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from app.models import Ticket


def _job(ticket: Ticket) -> str:
    return f"{ticket.category} ({ticket.severity}) at {ticket.property.address}"


def vendor_offer(ticket: Ticket, code: str) -> str:
    """The SMS offering a job to a vendor (CONTRACT.md §7)."""
    return (f"Fixline job {code}: {_job(ticket)}, tenant available {ticket.window}. "
            f"Reply YES {code} to take it or NO {code} to pass.")


def vendor_offer_spoken(ticket: Ticket, code: str) -> str:
    """The same offer read out on a call; the keypad answers it (1 takes, 2 passes)."""
    spelled = " ".join(code)
    return (f"Hello, this is Fixline with job {spelled}: {_job(ticket)}. "
            f"The tenant is available {ticket.window}. "
            "Press 1 to take the job, or press 2 to pass.")


def _when(appointment) -> str:
    if appointment.starts_at is None:
        return "at a time they will confirm with you"
    tz = ZoneInfo(appointment.ticket.property.timezone)
    start = appointment.starts_at.replace(tzinfo=UTC).astimezone(tz)
    text = start.strftime("%a %b %-d, %-I:%M %p").replace(":00 ", " ")
    if appointment.ends_at is not None:
        end = appointment.ends_at.replace(tzinfo=UTC).astimezone(tz)
        text += "–" + end.strftime("%-I:%M %p").replace(":00 ", " ")
    return text


def booked_tenant(ticket: Ticket, vendor, appointment) -> str:
    """To the tenant once a vendor has taken the job."""
    return (f"Fixline: {vendor.name} will come for your {ticket.category} problem, "
            f"{_when(appointment)}. Your landlord has been told.")


def booked_landlord(ticket: Ticket, vendor, appointment, link: str) -> str:
    """To the landlord once a vendor has taken the job."""
    return (f"Fixline: {vendor.name} took the {ticket.severity} {ticket.category} job at "
            f"{ticket.property.address} ({_when(appointment)}). {link}")


def job_filled(code: str) -> str:
    """To a vendor whose offer was overtaken by someone else's YES."""
    return f"Fixline job {code} has been filled by another vendor. No action needed, thanks."


def escalated_landlord(ticket: Ticket, reason: str, link: str) -> str:
    """To the landlord when Fixline could not book a vendor."""
    return (f"Fixline needs you: the {ticket.severity} {ticket.category} job at "
            f"{ticket.property.address} is not booked ({reason}). {link}")


def escalated_tenant(ticket: Ticket) -> str:
    """To the tenant when their ticket goes to a person."""
    return (f"Fixline: we have not booked a vendor for your {ticket.category} problem yet, "
            "so your landlord has been alerted and is on it.")


def reply_booked(ping) -> str:
    ticket = ping.ticket
    return (f"You have job {ping.code}: {_job(ticket)}. Tenant {ticket.tenant.name}, "
            f"{ticket.tenant.phone}, available {ticket.window}.")


def reply_filled(code: str) -> str:
    return f"Sorry, job {code} has already been filled. Thanks for answering."


def reply_declined(code: str) -> str:
    return f"OK, you passed on job {code}. Thanks."


def reply_no_job(code: str | None) -> str:
    if code:
        return f"Fixline has no job {code} for you. Reply with the code from our message."
    return "Fixline has no open job for you right now."


HELP = {  # by who texted: vendor, tenant, landlord, or a number Fixline does not know
    "vendor": "Fixline sends maintenance jobs. Reply YES <code> to take one, NO <code> to pass, "
              "STOP to stop messages, START to resume.",
    "tenant": "Fixline texts you about repairs at your home. To report a problem, use the link "
              "your landlord gave you. Reply STOP to stop these texts.",
    "landlord": "Fixline texts you when a repair needs you; the dashboard has the details. "
                "Reply STOP to stop these texts.",
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
