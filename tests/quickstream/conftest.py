"""QuickStream test helpers: the seeded identities, a local HTTP receiver, token shortcuts."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask.testing import FlaskClient

SEED_EXAMPLE = {
    # The seed's example request, with the seeded identities in place of its placeholders.
    "cancelUrl": "https://yoursite.com.au/cancelled",
    "connectionType": "QUICKWEB",
    "currencyCode": "AUD",
    "errorEmailToAddress": "errors@yoursite.com.au",
    "password": "merchant-secret",
    "product": "RECURRING",
    "returnUrl": "https://yoursite.com.au/thankyou",
    "serverReturnUrl": "https://yoursite.com.au/receiveRequest",
    "supplierBusinessCode": "SUPPLIER1",
    "username": "merchant",
}
TOKEN_PATH = "/quickstream/CommunityTokenRequestServlet"
HANDOFF_PATH = "/quickstream/OnlinePaymentServlet3"
PAN_VISA = "4242424242424242"


def token_params(**overrides: str | None) -> dict[str, str]:
    """A valid token request; an override of None removes that parameter."""
    params = {
        "username": "merchant",
        "password": "merchant-secret",
        "supplierBusinessCode": "SUPPLIER1",
        "connectionType": "QUICKWEB",
        "product": "QUICKWEB",
        "currencyCode": "AUD",
        "principalAmount": "100.00",
        "paymentReference": "INV-1001",
        "customerReferenceNumber": "CUST-42",
    }
    for name, value in overrides.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params


def get_token(client: FlaskClient, **overrides: str | None) -> str:
    response = client.post(TOKEN_PATH, data=token_params(**overrides))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    assert body.startswith("token=")
    return body.removeprefix("token=")


def open_session(client: FlaskClient, **overrides: str | None) -> tuple[str, str]:
    """Token request + handoff; returns (payment page path, csrf token)."""
    token = get_token(client, **overrides)
    response = client.post(HANDOFF_PATH, data={"token": token, "communityCode": "COMMUNITY1"})
    assert response.status_code == 303, response.get_data(as_text=True)
    page = response.headers["Location"]
    html = client.get(page).get_data(as_text=True)
    return page, csrf_of(html)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no csrf field in the page"
    return match.group(1)


def card_form(csrf: str, number: str = PAN_VISA, **overrides: str) -> dict[str, str]:
    form = {
        "csrf": csrf,
        "paymentMethod": "card",
        "cardholderName": "Jane Citizen",
        "cardNumber": number,
        "expiryDateMonth": "12",
        "expiryDateYear": "2030",
        "cvn": "4" * (4 if number.startswith(("34", "37")) else 3),
    }
    form.update(overrides)
    return form


def inline_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<div class="err" id="error-(\w+)">([^<]+)</div>', html))


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))


@dataclass
class Receiver:
    """A merchant's server on 127.0.0.1 (port 0) recording every request it gets."""

    statuses: list[int] = field(default_factory=list)  # answers in turn, then 200
    requests: list[Received] = field(default_factory=list)
    _event: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self._event:
            self._event.wait_for(lambda: len(self.requests) >= count, timeout)
        return list(self.requests)

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if urlsplit(r.path).path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with state._event:
                status = state.statuses.pop(0) if state.statuses else 200
                state.requests.append(
                    Received(self.command, self.path, dict(self.headers.items()), body)
                )
                state._event.notify_all()
            page = b"<html><body><h1 id='merchant'>Thanks from the merchant</h1></body></html>"
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
