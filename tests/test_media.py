"""A vendor's MMS photos: fetched from (fake) Twilio, checked like intake photos, kept once."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from app.config import Config
from app.messaging import media
from app.messaging.media import fetch_photos, media_urls
from app.models import Ticket, TicketPhoto
from app.web import uploads
from tests import twilio_fake
from tests.conftest import make_config

fake_twilio = twilio_fake.fake_twilio  # the fixture, requested by name below

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 200
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x02" * 200
HTML = b"<!doctype html><html><body>Not a photo</body></html>"
TWILIO = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME"


@pytest.fixture
def config(database_url, tmp_path, fake_twilio):
    """Twilio credentials set, Twilio's API (and so its media URLs) at the fake."""
    return make_config(database_url, tmp_path / "instance", **fake_twilio.settings())


@pytest.fixture
def ticket(home) -> Ticket:
    prop, tenant = home
    return Ticket.create(landlord=prop.landlord, property=prop, tenant=tenant,
                         category="plumbing", severity="routine", window="today")


def vendor_photos(ticket: Ticket) -> list[TicketPhoto]:
    return list(TicketPhoto.select().where(TicketPhoto.ticket == ticket)
                .order_by(TicketPhoto.id))


def stored_files(app) -> list[Path]:
    folder = Path(app.instance_path) / "uploads"
    return sorted(f for f in folder.iterdir() if f.is_file()) if folder.exists() else []


def cdn_hits(fake) -> list[str]:
    return [r.path for r in fake.requests if r.path.startswith("/cdn/")]


def test_a_jpeg_and_a_png_are_stored_as_the_vendors(app, fake_twilio, config, ticket):
    urls = [fake_twilio.add_media(JPEG), fake_twilio.add_media(PNG, "image/png")]

    assert fetch_photos(ticket.id, urls, config) == 2

    rows = vendor_photos(ticket)
    assert [(r.source, r.source_url, r.content_type, r.size) for r in rows] == [
        ("vendor", urls[0], "image/jpeg", len(JPEG)), ("vendor", urls[1], "image/png", len(PNG))]
    folder = Path(app.instance_path) / "uploads"
    assert [(folder / r.filename).read_bytes() for r in rows] == [JPEG, PNG]
    api = [r for r in fake_twilio.requests if not r.path.startswith("/cdn/")]
    assert [(r.status, r.auth) for r in api] == [
        (307, (fake_twilio.account_sid, fake_twilio.auth_token))] * 2
    assert len(cdn_hits(fake_twilio)) == 2


def test_the_cdn_hop_gets_no_credentials(app, fake_twilio, config, ticket):
    # The fake's CDN is on the API's own host, where requests would keep the header.
    fetch_photos(ticket.id, [fake_twilio.add_media(JPEG)], config)
    assert fake_twilio.cdn_authorization == [None]
    assert [r.auth for r in fake_twilio.requests if r.path.startswith("/cdn/")] == [None]


def test_a_second_run_stores_and_fetches_nothing(app, fake_twilio, config, ticket):
    urls = [fake_twilio.add_media(JPEG), fake_twilio.add_media(PNG, "image/png")]
    assert fetch_photos(ticket.id, urls, config) == 2
    before = len(fake_twilio.requests)

    assert fetch_photos(ticket.id, urls + urls[:1], config) == 0
    assert len(vendor_photos(ticket)) == 2 and len(stored_files(app)) == 2
    assert len(fake_twilio.requests) == before


def test_a_run_that_lost_the_race_keeps_no_second_copy(app, fake_twilio, config, ticket):
    url = fake_twilio.add_media(JPEG)
    photo = uploads.Photo(JPEG, "image/jpeg")
    assert media._store(ticket, photo, url) == 1
    assert media._store(ticket, photo, url) == 0  # the unique (ticket, source_url) refused it
    assert len(vendor_photos(ticket)) == 1 and len(stored_files(app)) == 1


def test_wrong_credentials_raise_and_store_nothing(app, fake_twilio, config, ticket):
    url = fake_twilio.add_media(JPEG)
    with pytest.raises(requests.HTTPError, match="401"):
        fetch_photos(ticket.id, [url], replace(config, twilio_auth_token="not-the-token"))
    assert [r.status for r in fake_twilio.requests] == [401]
    assert vendor_photos(ticket) == [] and stored_files(app) == []


def test_an_outage_raises_and_the_retry_stores_it(app, fake_twilio, config, ticket):
    url = fake_twilio.add_media(JPEG)
    fake_twilio.fail_next(1, 503)
    with pytest.raises(requests.HTTPError, match="503"):
        fetch_photos(ticket.id, [url], config)
    assert vendor_photos(ticket) == []
    assert fetch_photos(ticket.id, [url], config) == 1


def test_unreachable_twilio_raises(app, config, ticket):
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with pytest.raises(requests.ConnectionError):
        fetch_photos(ticket.id, [f"{base}/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"],
                     replace(config, twilio_api_base=base))


@pytest.mark.parametrize("body", [HTML, b"GIF89a" + b"\x05" * 200, b""],
                         ids=["html", "gif", "empty"])
def test_a_body_that_is_no_intake_photo_is_skipped(app, fake_twilio, config, ticket, body,
                                                   caplog):
    urls = [fake_twilio.add_media(body, "image/jpeg"), fake_twilio.add_media(JPEG)]
    assert fetch_photos(ticket.id, urls, config) == 1
    assert [r.source_url for r in vendor_photos(ticket)] == [urls[1]]
    assert len(stored_files(app)) == 1
    assert "Vendor photo 1 is" in caplog.text


@pytest.mark.parametrize("sized", [True, False], ids=["content-length", "until-close"])
def test_a_photo_over_the_intake_size_limit_is_skipped(app, fake_twilio, config, ticket,
                                                       sized):
    largest = JPEG + b"\x00" * (uploads.MAX_PHOTO_BYTES - len(JPEG))
    urls = [fake_twilio.add_media(largest + b"\x00", sized=sized),
            fake_twilio.add_media(largest, sized=sized)]
    assert fetch_photos(ticket.id, urls, config) == 1
    [row] = vendor_photos(ticket)
    assert (row.source_url, row.size) == (urls[1], uploads.MAX_PHOTO_BYTES)


def test_credentials_go_to_no_other_host(app, fake_twilio, config, ticket):
    other = twilio_fake.FakeTwilio()
    other.start()
    try:
        url = other.add_media(JPEG)  # same path shape, another origin
        assert fetch_photos(ticket.id, [url], config) == 0
        assert other.requests == []
    finally:
        other.stop()


def test_an_unknown_ticket_fetches_nothing(app, fake_twilio, config):
    assert fetch_photos(10**9, [fake_twilio.add_media(JPEG)], config) == 0
    assert fake_twilio.requests == []


def form(*urls: str, count: int | str | None = None) -> dict[str, str]:
    values = {f"MediaUrl{n}": url for n, url in enumerate(urls)}
    values["NumMedia"] = str(len(urls) if count is None else count)
    return values


def test_media_urls_keeps_twilio_https_urls_up_to_the_intake_count():
    config = Config()
    urls = [f"{TWILIO}{n}" for n in range(uploads.MAX_PHOTOS + 2)]
    assert media_urls(form(*urls), config) == urls[:uploads.MAX_PHOTOS]
    assert media_urls(form(*urls[:2]), config) == urls[:2]
    assert media_urls(form(*urls[:2], count=1), config) == urls[:1]


@pytest.mark.parametrize("count", ["", "two", "-3", "0", None])
def test_media_urls_without_a_usable_count_is_empty(count):
    values = form(f"{TWILIO}1")
    if count is None:
        del values["NumMedia"]
    else:
        values["NumMedia"] = count
    assert media_urls(values, Config()) == []


def test_media_urls_ignores_junk():
    junk = ["http://api.twilio.com/2010-04-01/x",  # not https
            "https://api.twilio.com.evil.example/x", "https://eviltwilio.com/x",
            "https://AC1:token@api.twilio.com/x", "javascript:alert(1)", "", "   ",
            "https://127.0.0.1:9/x", f"{TWILIO}{'1' * 300}"]  # longer than a source_url
    good = f"{TWILIO}1"
    assert media_urls(form(*junk[:4], good), Config()) == [good]
    assert media_urls(form(good, good, *junk[4:7]), Config()) == [good]
    assert media_urls(form(*junk[7:], good), Config()) == [good]


def test_media_urls_accepts_the_fake_twilio_only_when_configured():
    fake = "http://127.0.0.1:8123/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    assert media_urls(form(fake), Config()) == []
    assert media_urls(form(fake), Config(twilio_api_base="http://127.0.0.1:8123")) == [fake]
    assert media_urls(form(fake), Config(twilio_api_base="http://127.0.0.1:8124")) == []
