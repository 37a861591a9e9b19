"""A delivery connects to exactly the address its check resolved (no DNS rebinding): a name
that answers a public address to the check and 127.0.0.1 afterwards never gets a connection
into the network, and https still verifies the URL's host name while connecting to the IP."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
import subprocess

import pytest
import urllib3.util.connection

from app.hooks import addresses, delivery, endpoints, queueing
from app.models import WebhookAttempt
from tests.hooks.receiver import Receiver
from tests.hooks.test_webhooks import emit, production, tick


@pytest.fixture
def handed(monkeypatch) -> list[int]:
    sent: list[int] = []
    monkeypatch.setattr(queueing, "_sender", sent.append)
    return sent


class Resolver:
    """A scripted resolver, as a rebinding name server: each lookup of a name answers the
    next of answers (the last one repeats); an IP literal answers itself, as the real
    getaddrinfo does. looked_up records the names asked for."""

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.looked_up: list[str] = []

    def getaddrinfo(self, host, port, *args, **kwargs):
        try:
            ipaddress.ip_address(host)
            address = host
        except ValueError:
            self.looked_up.append(host)
            address = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


@pytest.fixture
def dns(monkeypatch) -> Resolver:
    resolver = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", resolver.getaddrinfo)
    return resolver


@pytest.fixture
def connections(monkeypatch) -> list[tuple[str, int]]:
    """Every address a connection is opened to (a name given is resolved, as urllib3 would);
    one to 127.0.0.1 really connects (so the test receiver would see it), any other fails at
    once instead of going to the internet."""
    opened: list[tuple[str, int]] = []
    real = urllib3.util.connection.create_connection

    def create_connection(address, *args, **kwargs):
        host, port = address
        ip = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)[0][4][0]
        opened.append((ip, port))
        if ip == "127.0.0.1":
            return real((ip, port), *args, **kwargs)
        raise ConnectionRefusedError(f"test: no connection to {ip}")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return opened



def queued(landlord, url: str, config, handed) -> int:
    """A webhook at url, one event of the landlord's, and the id of the delivery it queued."""
    endpoints.add(landlord, url, ["*"], config)
    emit(landlord)
    (delivery_id,) = tick(handed)
    return delivery_id

def test_a_rebinding_name_gets_no_connection_into_the_network(
        landlord, config, handed, dns, connections):
    prod = production(config)
    with Receiver(200) as receiver:
        port = receiver.server.server_address[1]
        # Public when the endpoint is added and when the delivery checks it; the name
        # server answers 127.0.0.1 to any later lookup (the one requests used to make).
        dns.answers[:] = ["93.184.216.34", "93.184.216.34", "127.0.0.1"]
        delivery_id = queued(landlord, f"http://rebind.example.test:{port}/hooks", prod, handed)
        assert delivery.deliver(delivery_id, prod) == "retrying"
        assert receiver.requests == []
    assert connections == [("93.184.216.34", port)]  # the checked address, nothing else
    assert dns.looked_up == ["rebind.example.test"] * 2  # added, then delivered: one lookup each
    (attempt,) = WebhookAttempt.select()
    assert attempt.status_code is None and "93.184.216.34" in attempt.error


def test_production_refuses_a_private_address_at_delivery_without_connecting(
        landlord, config, handed, dns, connections):
    with Receiver(200) as receiver:
        port = receiver.server.server_address[1]
        dns.answers[:] = ["127.0.0.1"]
        # Added outside production (no check of the address), delivered in production.
        delivery_id = queued(landlord, f"http://inside.example.test:{port}/hooks", config, handed)
        assert delivery.deliver(delivery_id, production(config)) == "retrying"
        assert receiver.requests == []
    assert connections == []
    (attempt,) = WebhookAttempt.select()
    assert attempt.error == ("refused: inside.example.test resolves to 127.0.0.1, which is "
                             "not a public address")


def test_the_connection_goes_to_the_resolved_address_with_the_urls_host(
        landlord, config, handed, dns, connections):
    with Receiver(200) as receiver:
        port = receiver.server.server_address[1]
        dns.answers[:] = ["127.0.0.1"]
        delivery_id = queued(landlord, f"http://Hooks.Example.test:{port}/in?a=b", config, handed)
        assert delivery.deliver(delivery_id, config) == "delivered"
        (headers, body), = receiver.requests
    assert connections == [("127.0.0.1", port)]
    assert headers["Host"] == f"hooks.example.test:{port}"
    assert headers["Content-Type"] == "application/json" and headers["Fixline-Signature"]
    assert int(headers["Content-Length"]) == len(body)


def test_an_https_pool_verifies_the_urls_host_while_connecting_to_the_ip(
        landlord, config, dns, monkeypatch):
    built = []

    class Pool:
        def __init__(self, *args, **kwargs):
            built.append((args, kwargs))
            raise RuntimeError("test: built")

    monkeypatch.setattr(delivery.urllib3, "HTTPSConnectionPool", Pool)
    dns.answers[:] = ["93.184.216.34"]
    with pytest.raises(RuntimeError, match="built"):
        delivery.send("https://hooks.example.test/x", b"{}", {}, production(config))
    ((args, kwargs),) = built
    assert args == ("93.184.216.34", 443)
    assert kwargs["server_hostname"] == kwargs["assert_hostname"] == "hooks.example.test"
    assert kwargs["cert_reqs"] == "CERT_REQUIRED" and kwargs["ca_certs"] == delivery.CA_CERTS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str, str]:
    """(CA file, certificate, key): a test CA and a certificate it signed for the name
    "localhost" only (no IP address in it)."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Fixline test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost")
    (folder / "leaf.ext").write_text("subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
                                     "keyUsage=critical,digitalSignature\n"
                                     "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext")
    return str(folder / "ca.pem"), str(folder / "leaf.pem"), str(folder / "leaf.key")


def _tls(receiver: Receiver, certificate: tuple[str, str, str]) -> list[str | None]:
    """Serve the receiver over TLS; the names clients asked for (SNI) are recorded."""
    _, cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    return names


def test_https_checks_the_certificate_for_the_urls_host_at_the_pinned_address(
        landlord, config, handed, dns, connections, certificate, monkeypatch):
    monkeypatch.setattr(delivery, "CA_CERTS", certificate[0])
    dns.answers[:] = ["127.0.0.1"]
    with Receiver(200) as receiver:
        names = _tls(receiver, certificate)
        port = receiver.server.server_address[1]
        delivery_id = queued(landlord, f"https://localhost:{port}/hooks", config, handed)
        assert delivery.deliver(delivery_id, config) == "delivered"
        (headers, _), = receiver.requests
    assert connections == [("127.0.0.1", port)]  # to the IP, which the certificate lacks,
    assert names == ["localhost"] and headers["Host"] == f"localhost:{port}"  # yet verified


def test_https_refuses_a_certificate_for_another_name(
        landlord, config, handed, dns, connections, certificate, monkeypatch):
    monkeypatch.setattr(delivery, "CA_CERTS", certificate[0])
    dns.answers[:] = ["127.0.0.1"]
    with Receiver(200) as receiver:
        _tls(receiver, certificate)
        port = receiver.server.server_address[1]
        delivery_id = queued(landlord, f"https://elsewhere.example.test:{port}/hooks", config,
                             handed)
        assert delivery.deliver(delivery_id, config) == "retrying"
        assert receiver.requests == []
    (attempt,) = WebhookAttempt.select()
    assert attempt.status_code is None and "SSLError" in attempt.error
    assert "elsewhere.example.test" in attempt.error


def test_resolve_returns_the_checked_addresses(dns):
    dns.answers[:] = ["93.184.216.34"]
    assert addresses.resolve("https://hooks.example.test/x", production=True) == [
        (socket.AF_INET, "93.184.216.34", 443)]
    dns.answers[:] = ["10.0.0.7"]
    assert addresses.resolve("http://hooks.example.test:8080/", production=False) == [
        (socket.AF_INET, "10.0.0.7", 8080)]
    with pytest.raises(addresses.Refused, match="10.0.0.7"):
        addresses.resolve("http://hooks.example.test/", production=True)
    addresses.check("http://hooks.example.test/", production=False)  # no lookup outside
    assert dns.looked_up == ["hooks.example.test"] * 3
