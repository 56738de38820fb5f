"""Issue 11 #6: the SMTP password never travels in clear unless ``tls = "off"`` says so.

aiosmtpd servers on 127.0.0.1 with a certificate from a throwaway CA (trustme): STARTTLS on
587-style servers, TLS from the first byte for "ssl", and a plain server that offers no STARTTLS.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from apps.sentiment import outbox
from shared.errors import LorasuiteError


class Recorder:
    """An aiosmtpd handler and authenticator that remembers messages and logins (user, over TLS?)."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.logins: list[tuple[str, bool]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd API
        self.messages.append(envelope.content)
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else str(auth_data.login)
        encrypted = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.logins.append((login, encrypted))
        return AuthResult(success=True)


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context that trusts only the throwaway CA)."""
    import trustme

    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


@contextmanager
def smtp_server(**kwargs) -> Iterator[tuple[int, Recorder]]:
    from aiosmtpd.controller import Controller

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, authenticator=recorder.authenticate,
                            ready_timeout=10, **kwargs)
    controller.start()
    try:
        yield port, recorder
    finally:
        controller.stop()


def _send(port: int, tls_mode: str, context: ssl.SSLContext | None) -> None:
    outbox.send_email(["desk@example.com"], "[HIGH] Negative news spike: Acme", "body", host="127.0.0.1",
                      port=port, user="alerts", password="s3cret", tls=tls_mode, timeout=10, context=context)


def test_starttls_is_negotiated_before_login(tls):
    server_ctx, client_ctx = tls
    with smtp_server(tls_context=server_ctx, require_starttls=True) as (port, seen):
        _send(port, "starttls", client_ctx)
    assert seen.logins == [("alerts", True)] and len(seen.messages) == 1


def test_smtps_on_connect(tls):
    server_ctx, client_ctx = tls
    # aiosmtpd advertises AUTH on implicit TLS only with auth_require_tls off (it tracks STARTTLS only)
    with smtp_server(ssl_context=server_ctx, auth_require_tls=False) as (port, seen):
        _send(port, "ssl", client_ctx)
    assert seen.logins == [("alerts", True)] and len(seen.messages) == 1


def test_no_starttls_offered_means_nothing_is_sent(tls):
    with smtp_server(auth_require_tls=False) as (port, seen):
        with pytest.raises(LorasuiteError, match="does not offer STARTTLS"):
            _send(port, "starttls", tls[1])
        assert seen.logins == [] and seen.messages == []
        _send(port, "off", None)  # only when the config says so explicitly
    assert seen.logins == [("alerts", False)] and len(seen.messages) == 1


def test_the_certificate_is_verified(tls):
    with smtp_server(tls_context=tls[0], require_starttls=True) as (port, seen):
        with pytest.raises(ssl.SSLCertVerificationError):
            _send(port, "starttls", ssl.create_default_context())  # system CAs do not know the test CA
    assert seen.logins == [] and seen.messages == []


def test_config_shape(monkeypatch):
    smtp = {"host": "smtp.example.com", "user": "alerts", "password": "from-file", "from": "a@example.com",
            "to": ["desk@example.com"]}
    monkeypatch.setenv("LORASUITE_SMTP_PASSWORD", "from-env")
    assert outbox.smtp_settings(smtp) == {"host": "smtp.example.com", "port": None, "user": "alerts",
                                          "password": "from-env", "sender": "a@example.com", "tls": "starttls"}
    assert outbox.smtp_settings(dict(smtp, tls="ssl", port=465))["tls"] == "ssl"
    with pytest.raises(LorasuiteError, match='tls = "off"'):
        outbox.smtp_settings(dict(smtp, starttls=False))
    with pytest.raises(LorasuiteError, match="starttls, ssl, off"):
        outbox.send_email(["x@example.com"], "s", "b", host="127.0.0.1", tls="maybe")
