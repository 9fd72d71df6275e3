"""Webhooks over HTTPS: the connection goes to the address that was checked, and the receiver's certificate is still
verified for its host name (its TLS server name and Host header are the URL's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import Settings
from server.webhooks import verify
from tests.factories import SECRET, TWO_QUESTIONS, Presenter, limits
from tests.server.webhooks.receiver import Certificates, certificates, receiving
from tests.server.webhooks.test_webhooks import LOCAL, add_webhook, finished


@pytest.fixture
def settings(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> Settings:
    """The suite's settings (tests/conftest.py), trusting this test's own certificate authority for receivers."""
    folder = tmp_path / "tls"
    folder.mkdir()
    return Settings(
        env="test",
        data_dir=tmp_path,
        database_url=database_url,
        secret_key=SECRET,
        commit_interval_ms=5,
        push_interval_ms=20,
        webhook_ca_file=folder / "ca.pem",
        **getattr(request, "param", {}),
    )


def made(settings: Settings, host: str) -> Certificates:
    assert settings.webhook_ca_file is not None
    return certificates(settings.webhook_ca_file.parent, host)


@limits(**LOCAL)
def test_an_https_receiver_gets_signed_events_with_its_certificate_checked(
    presenter: Presenter, settings: Settings
) -> None:
    tls = made(settings, "localhost")
    with receiving(tls=tls.server_context()) as receiver:
        assert receiver.url.startswith("https://localhost:")
        webhook = add_webhook(presenter, receiver.url, ["session.ended"])
        session = presenter.start(TWO_QUESTIONS)
        presenter.control(session["id"], "end")
        (record,) = finished(presenter, webhook["id"], 1)
    assert record["status"] == "delivered", record
    (request,) = receiver.received
    assert request.headers["Host"] == f"localhost:{receiver.port}"
    assert verify(webhook["secret"], request.headers["Handsup-Signature"], request.body)


@limits(**LOCAL, webhook_attempts=1)
def test_a_certificate_for_another_host_is_refused(presenter: Presenter, settings: Settings) -> None:
    tls = made(settings, "hooks.example.org")
    with receiving(tls=tls.server_context()) as receiver:
        webhook = add_webhook(presenter, receiver.url, ["session.ended"])
        session = presenter.start(TWO_QUESTIONS)
        presenter.control(session["id"], "end")
        (record,) = finished(presenter, webhook["id"], 1)
    assert record["status"] == "failed" and "certificate" in record["error"].lower(), record
    assert receiver.received == []
