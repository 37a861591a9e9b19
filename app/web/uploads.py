"""Tenant photos: checked by their first bytes (never the filename), stored under a random name."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import Response, abort, current_app, send_file
from werkzeug.datastructures import FileStorage

from app import clock
from app.i18n import gettext
from app.models import Ticket, TicketPhoto

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 8 * 1024 * 1024
# The whole intake request: every photo at its largest plus room for the text fields.
MAX_REQUEST_BYTES = MAX_PHOTOS * MAX_PHOTO_BYTES + 2 * 1024 * 1024
KINDS = "JPEG, PNG, WebP or HEIC"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
              "image/heic": "heic", "image/heif": "heif"}
BROWSER_SHOWS = ("image/jpeg", "image/png", "image/webp")
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
HEIF_BRANDS = {b"mif1", b"msf1"}
PHOTO_CSP = "default-src 'none'; sandbox"  # an image opened on its own runs nothing
SUBMISSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")  # the intake form's one-time id
HOLD_SECONDS = 3600  # photos kept for a refused report's next try are dropped after this


@dataclass(frozen=True)
class Photo:
    """An accepted upload, held in memory until the ticket it belongs to is written."""

    data: bytes
    content_type: str
    name: str = ""  # what the tenant's file was called; shown back to them only

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


@dataclass(frozen=True)
class Held:
    """A checked photo of a refused report, kept on disk for the same form's next try."""

    file: str  # its random name in the form's folder under held/
    name: str
    content_type: str
    size: int


def sniff(head: bytes) -> str | None:
    """The image type the leading bytes prove, or None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":  # ISO base media file: HEIC/HEIF name their brand here
        brands = {head[8:12]} | {head[i:i + 4] for i in range(16, min(len(head), 48), 4)}
        if brands & HEIC_BRANDS:
            return "image/heic"
        if head[8:12] in HEIF_BRANDS:
            return "image/heif"
    return None


def chosen(files: Iterable[FileStorage]) -> list[FileStorage]:
    """The file parts that carry a file (an empty file input still sends one nameless part)."""
    return [f for f in files if f is not None and (f.filename or "").strip()]


def too_many(count: int) -> str | None:
    """The count rule (static/js/photos.js says the same words before the form is sent)."""
    if count <= MAX_PHOTOS:
        return None
    return gettext("Attach at most %(most)s photos (you chose %(count)s).", most=MAX_PHOTOS,
                   count=count)


def check(files: Iterable[FileStorage], kept: int = 0) -> tuple[list[Photo], list[str]]:
    """Read and check the uploads: (photos, errors), each error naming the photo.

    kept photos (held from an earlier try) count towards MAX_PHOTOS; every file is still
    checked, so that the good ones can be held while the tenant chooses which to drop.
    """
    files = chosen(files)
    photos, errors = [], []
    if problem := too_many(kept + len(files)):
        errors.append(problem)
    for number, upload in enumerate(files, start=kept + 1):
        name = upload.filename[:80]
        label = gettext("Photo %(n)s (%(name)s)", n=number, name=name)
        outcome = accept(upload.stream.read(MAX_PHOTO_BYTES + 1), label, name)
        (photos if isinstance(outcome, Photo) else errors).append(outcome)
    return photos, errors


def accept(data: bytes, label: str, name: str = "") -> Photo | str:
    """The Photo these bytes make, or why they make none (label names the photo in it)."""
    if not data:
        return gettext("%(photo)s is empty.", photo=label)
    if len(data) > MAX_PHOTO_BYTES:
        return gettext("%(photo)s is larger than %(mb)s MB.", photo=label,
                       mb=MAX_PHOTO_BYTES // (1024 * 1024))
    if (kind := sniff(data[:64])) is None:
        return gettext("%(photo)s is not a %(kinds)s image.", photo=label, kinds=KINDS)
    return Photo(data, kind, name)


def upload_dir() -> Path:
    """instance/uploads/, created on first use and readable by this user only."""
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def write(photos: list[Photo]) -> list[tuple[Photo, Path]]:
    """Put each photo on disk under a fresh random name (never overwriting anything)."""
    folder, written = upload_dir(), []
    try:
        for photo in photos:
            path = folder / f"{secrets.token_urlsafe(24)}.{photo.extension}"
            with path.open("xb") as out:
                out.write(photo.data)
            written.append((photo, path))
    except OSError:
        discard(written)
        raise
    return written


def record(ticket: Ticket, written: list[tuple[Photo, Path]], source: str = "tenant",
           source_url: str | None = None) -> None:
    """The TicketPhoto rows; call inside the transaction that creates the ticket.

    A vendor's MMS photo is recorded one at a time, with the media URL it was fetched from.
    """
    now = clock.now()
    for photo, path in written:
        TicketPhoto.create(ticket=ticket, filename=path.name, content_type=photo.content_type,
                           size=len(photo.data), source=source, source_url=source_url,
                           created_at=now)


def discard(written: list[tuple[Photo, Path]]) -> None:
    """Remove files whose ticket was never written (or was an earlier, duplicate submit)."""
    for _photo, path in written:
        path.unlink(missing_ok=True)


def _held_dir(tenant_id: int, submission: str) -> Path:
    """The folder of one form's held photos (submission: the form's one-time id)."""
    if not SUBMISSION_ID.fullmatch(submission):
        raise ValueError("not a submission id")
    return upload_dir() / "held" / f"{tenant_id}-{submission}"


def held(tenant_id: int, submission: str | None) -> list[Held]:
    """The photos held for this tenant's form, oldest first ([] when none or expired)."""
    if not submission or not SUBMISSION_ID.fullmatch(submission):
        return []
    try:
        listed = json.loads((_held_dir(tenant_id, submission) / "held.json").read_text())
        return [Held(**item) for item in listed]
    except (OSError, ValueError, TypeError):
        return []


def hold(tenant_id: int, submission: str, keep: list[Held], photos: list[Photo]) -> list[Held]:
    """Keep `keep` (already held) and the new photos for the next try; drop the rest."""
    _sweep()
    folder = _held_dir(tenant_id, submission)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    now_held = list(keep)
    for photo in photos:
        path = folder / f"{secrets.token_urlsafe(24)}.{photo.extension}"
        with path.open("xb") as out:
            out.write(photo.data)
        now_held.append(Held(path.name, photo.name, photo.content_type, len(photo.data)))
    names = {item.file for item in now_held}
    for path in folder.iterdir():
        if path.name != "held.json" and path.name not in names:
            path.unlink(missing_ok=True)
    (folder / "held.json").write_text(json.dumps([asdict(item) for item in now_held]))
    os.utime(folder)  # the sweep counts HOLD_SECONDS from the last try
    return now_held


def load(tenant_id: int, submission: str, items: list[Held]) -> list[Photo]:
    """The held photos' bytes, to be written with the ticket like fresh ones."""
    if not items:  # also a form sent without its one-time id: nothing can be held for it
        return []
    folder, photos = _held_dir(tenant_id, submission), []
    for item in items:
        try:
            photos.append(Photo((folder / item.file).read_bytes(), item.content_type, item.name))
        except OSError:  # swept meanwhile: the report goes without it
            continue
    return photos


def release(tenant_id: int, submission: str | None) -> None:
    """Forget a form's held photos (its report was filed)."""
    if submission and SUBMISSION_ID.fullmatch(submission):
        shutil.rmtree(_held_dir(tenant_id, submission), ignore_errors=True)


def _sweep() -> None:
    """Drop the held photos of forms nobody sent again within HOLD_SECONDS."""
    cutoff = time.time() - HOLD_SECONDS
    for folder in (upload_dir() / "held").glob("*"):
        try:
            stale = folder.stat().st_mtime < cutoff
        except OSError:
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)


def photos_of(ticket: Ticket) -> list[TicketPhoto]:
    return list(TicketPhoto.select().where(TicketPhoto.ticket == ticket).order_by(TicketPhoto.id))


def send_photo(photo: TicketPhoto) -> Response:
    """The stored file with the type its bytes proved; HEIC (no browser shows it) downloads.

    The caller decides who may see it (the tenant's token, the landlord's login).
    """
    path = upload_dir() / Path(photo.filename).name
    if not path.is_file():
        abort(404)
    download = photo.content_type not in BROWSER_SHOWS
    response = send_file(path, mimetype=photo.content_type, as_attachment=download,
                         download_name=f"ticket-{photo.ticket_id}-photo-{photo.id}"
                                       f".{path.suffix[1:]}",
                         max_age=0, conditional=True, etag=True)
    response.headers["Content-Security-Policy"] = PHOTO_CSP
    return response
