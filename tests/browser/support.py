"""Helpers for the browser tests: the running stack, what a page must not do, screenshots."""

from __future__ import annotations

import os
import re
import struct
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import requests

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
# The README's screenshots are refreshed on request (FIXLINE_SCREENSHOTS=docs/screenshots);
# otherwise each run writes them beside the test run so the checkout stays clean.
SCREENSHOTS = Path(os.environ.get("FIXLINE_SCREENSHOTS")
                   or Path(tempfile.gettempdir()) / "fixline-screenshots")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
DEMO_LOGIN = ("john.smith@example.com", "fixline-demo")
UPDATE_SECONDS = 20  # how long a page may take to show what the worker did


@dataclass
class Live:
    """The running stack: its address, the demo API key and the tenants' intake links."""

    base: str
    api_key: str
    intake: dict[str, str]
    http: requests.Session = field(default_factory=requests.Session)

    def url(self, path: str) -> str:
        return self.base.rstrip("/") + path

    def api(self, method: str, path: str, **kwargs) -> dict:
        response = self.http.request(method, self.url("/api" + path), timeout=10,
                                     headers={"Authorization": f"Bearer {self.api_key}"},
                                     **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} " \
                                           f"{response.text}"
        return response.json()

    def tenant(self, name: str) -> dict:
        return next(t for t in self.api("GET", "/tenants") if t["name"] == name)

    def report(self, tenant_name: str, category: str, **fields) -> dict:
        """A ticket made through the API for one of the demo tenants."""
        tenant = self.tenant(tenant_name)
        body = {"tenantId": tenant["id"], "propertyId": tenant["propertyId"],
                "category": category, "severity": "routine", "window": "any time"}
        body.update(fields)
        return self.api("POST", "/tickets", json=body)

    def pending_ping(self, ticket_id: int) -> dict | None:
        pings = self.api("GET", f"/tickets/{ticket_id}")["pings"]
        return next((p for p in pings if p["outcome"] == "pending"), None)


@dataclass
class Watch:
    """What a page did that it must not: dialogs (a script ran), CSP refusals, JS errors."""

    dialogs: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        def on_dialog(dialog) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message} on {page.url}")
            dialog.dismiss()

        def on_console(message) -> None:
            if message.type == "error" and ("Content Security Policy" in message.text
                                            or "Refused to" in message.text):
                self.refused.append(f"{message.text} on {page.url}")

        page.on("dialog", on_dialog)
        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"{exc} on {page.url}"))
        page.on("framenavigated",
                lambda frame: self.navigations.append(frame.url) if frame == page.main_frame
                else None)

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"a script ran: {self.dialogs}"
        assert self.refused == [], f"the CSP refused something the page needs: {self.refused}"
        assert self.errors == [], f"JavaScript errors: {self.errors}"


def log_in(page, live: Live) -> None:
    """The demo landlord logs in through the form and lands on the dashboard."""
    page.goto(live.url("/login"))
    page.get_by_label("Email").fill(DEMO_LOGIN[0])
    page.get_by_label("Password").fill(DEMO_LOGIN[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/dashboard$"))


def screenshot(page, name: str) -> Path:
    """<SCREENSHOTS>/<name>.png, the whole page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def same_document(page) -> None:
    """Mark the page's JavaScript world: a reload or navigation would lose the mark."""
    page.evaluate("() => { window.fixlineSamePage = true; }")


def still_same_document(page) -> bool:
    return page.evaluate("() => window.fixlineSamePage === true")


def png(width: int = 160, height: int = 120) -> bytes:
    """A real PNG (a water-stain gradient), for uploads that show in screenshots."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    def row(y: int) -> bytes:
        return b"\x00" + b"".join(bytes((150 + x // 4 % 100, 170 + y // 3 % 80, 200))
                                  for x in range(width))

    rows = b"".join(row(y) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))
