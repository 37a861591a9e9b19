"""A live dashboard's answer to a change: only the parts of the board that changed.

The board is a handful of parts (stuck rows, each ticket group, quotes, visits, metrics), each
between `<!--part:NAME-->` markers in the template. The board's waiting request carries a
digest of each part it shows (`p`); when the board changes, the answer is its new waiting
element plus, as htmx out-of-band swaps, the parts whose digest differs. A booking then
sends two groups and the metrics instead of the whole board, and each open dashboard parses
and swaps that much (50 pages open on one machine: the browser's work was most of the wait).
"""

from __future__ import annotations

import hashlib
import re

SLOT = "__parts__"  # where the board's own digests go in its waiting URL
PART = re.compile(r"<!--part:([\w-]+)-->(.*?)<!--/part:\1-->", re.S)
FEED = re.compile(r'<span id="board-feed" [^>]*?[?;]p=([\w.]+)"[^>]*></span>')
POLL = re.compile(r'<span id="board-poll" [^>]*></span>')
WRAPPER = 'class="board-part"'


def digests(html: str, mask: str) -> str:
    """The parts' digests in board order, with the parts' names first; mask (the CSRF token
    the forms carry, if any) does not count."""
    parts = PART.findall(html)
    names = _short(" ".join(name for name, _ in parts))
    return ".".join([names] + [_short(body.replace(mask, "") if mask else body)
                               for _, body in parts])


def fill(html: str, mask: str) -> str:
    """The board with its own parts' digests in its waiting URL."""
    return html.replace(SLOT, digests(html, mask), 1) if SLOT in html else html


def changed_only(html: str, known: str) -> str | None:
    """The answer to a page showing the parts `known` describes: the new waiting element,
    the new fallback poll and the parts that differ, out of band; None when the page shows
    other parts (another version of the board's layout): it gets the whole board. The new
    board's digests are the ones fill() put in its waiting URL."""
    feed, poll = FEED.search(html), POLL.search(html)
    if feed is None or poll is None:
        return None
    now, seen = feed.group(1).split("."), known.split(".")
    if len(seen) != len(now) or seen[0] != now[0]:
        return None
    parts = PART.findall(html)
    out = [feed.group(0), _out_of_band(poll.group(0))]
    out += [_out_of_band(body) for (_, body), old, new in zip(parts, seen[1:], now[1:],
                                                               strict=True) if old != new]
    news = html.rfind('<p id="board-news"')
    if news != -1:
        out.append(html[news:])
    return "\n".join(out)


def _out_of_band(element: str) -> str:
    """The element swapped in place of the page's element with the same id."""
    head = element.index(">")
    return element[:head] + ' hx-swap-oob="true"' + element[head:]


def _short(text: str) -> str:
    return hashlib.blake2s(text.encode(), digest_size=6).hexdigest()
