"""Browser tests: the whole stack as `make run` starts it, driven by Debian's Chromium.

Playwright's own browser downloads are never used: Chromium is /usr/bin/chromium (CI installs
it with apt-get); without it every browser test is skipped, naming it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, Live, Watch
from tests.test_make_run import Stack, descendants, supervisor_env, wait_ready


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (Debian: apt-get install "
                    "chromium); the browser tests need it")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                                                      "(pip install -e '.[test]')")


@pytest.fixture(scope="session")
def live(tmp_path_factory) -> Iterator[Live]:
    """`python -m app.supervisor` on a private instance and port, for every browser test."""
    _require_chromium()
    tmp = tmp_path_factory.mktemp("stack")
    stack = Stack(supervisor_env(tmp))
    processes: dict[int, tuple[str, str]] = {}
    try:
        base = stack.wait_for(r"Dashboard:\s+(\S+)", 90)[1]
        wait_ready(base)
        processes = descendants(stack.proc.pid)
        output = stack.output
        key = re.search(r"Demo API key:\s+(\S+)", output)[1]
        links = dict(re.findall(r"^\s+([A-Z][\w ]+): (http://\S+/intake/\S+)$", output, re.M))
        running = Live(base, key, links)
        yield running
        running.http.close()
    finally:
        stack.close(processes)
        assert "Traceback" not in stack.output, stack.output


@pytest.fixture(scope="session")
def browser(live):
    """Debian's Chromium, headless, through Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def open_page(browser) -> Iterator[Callable[..., tuple]]:
    """open_page(viewport=DESKTOP, javascript=True) → (page, watch), each in a fresh context."""
    contexts, watches = [], []

    def make(viewport: dict = DESKTOP, javascript: bool = True):
        context = browser.new_context(viewport=viewport, device_scale_factor=1,
                                      is_mobile=viewport is PHONE, has_touch=viewport is PHONE,
                                      java_script_enabled=javascript,
                                      timezone_id="America/Chicago", locale="en-US")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        watch = Watch()
        watch.attach(page)
        watches.append(watch)
        return page, watch

    yield make
    for context in contexts:
        context.close()
    for watch in watches:
        watch.assert_clean()
