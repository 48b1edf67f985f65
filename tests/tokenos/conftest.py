"""TokenOS fixtures: a live server, a Python SDK client and member, a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from mockbank.clients.tokenos import Member, TokenClient
from mockbank.testing import LiveServer
from tests.tokenos.webhook_receiver import WebhookReceiver, start_receiver


@pytest.fixture
def live(app: Flask) -> Iterator[LiveServer]:
    """A fresh app on a free port, so a test can read its state and move its clock."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def token_client(live: LiveServer) -> TokenClient:
    return TokenClient(live.url_for("tokenos"))


@pytest.fixture
def merchant(token_client: TokenClient) -> Member:
    """A business member with a DOMAIN alias and a profile, created over HTTP."""
    member = token_client.create_member({"type": "DOMAIN", "value": "merchant.example.com"})
    member.set_profile({"displayNameFirst": "Merchant 123"})
    return member


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A local HTTP server on a free port recording webhook deliveries."""
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()
