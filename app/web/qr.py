"""QR codes as SVG (segno): a tenant's intake link, printable on a notice by the door."""

from __future__ import annotations

import io

import segno


def svg(data: str, *, title: str = "QR code", scale: int = 4) -> bytes:
    """A standalone SVG document that scales (viewBox, no fixed size): black on white, no styles."""
    code = segno.make(data, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=scale, border=4, dark="#000", light="#fff",
              title=title, svgclass="qr", lineclass=None, xmldecl=True, omitsize=True)
    return out.getvalue()
