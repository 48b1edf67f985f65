"""The handoff: one use, one hour, the right community code, and nothing consumed on refusal."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from flask.testing import FlaskClient

from mockbank.clock import Clock
from mockbank.providers.quickstream import records
from mockbank.pytest_plugin import Mockbank
from mockbank.state import State
from tests.quickstream.helpers import HANDOFF_PATH, TOKEN_PATH, get_token, token_params


def _handoff(client: FlaskClient, token: str, community: str = "COMMUNITY1") -> object:
    return client.post(HANDOFF_PATH, data={"token": token, "communityCode": community})


def test_handoff_consumes_the_token_and_redirects_to_the_payment_page(
    client: FlaskClient, state: State
) -> None:
    token = get_token(client)
    response = _handoff(client, token)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/quickstream/quickweb/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "Path=/quickstream/quickweb/" in cookie
    record = state.store.record(records.NS_TOKEN, token)
    assert record is not None
    assert record.used
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Mockbank Demo Facility" in html
    assert "100.00" in html
    assert "INV-1001" in html


def test_handoff_works_as_a_get_link(client: FlaskClient) -> None:
    token = get_token(client)
    response = client.get(
        HANDOFF_PATH, query_string={"token": token, "communityCode": "COMMUNITY1"}
    )
    assert response.status_code == 303


def test_token_used_once_is_refused_the_second_time(client: FlaskClient) -> None:
    token = get_token(client)
    assert _handoff(client, token).status_code == 303
    again = _handoff(client, token)
    assert again.status_code == 410
    assert again.headers["Content-Type"].startswith("text/html")
    assert "already been used" in again.get_data(as_text=True)


def test_token_is_refused_after_3601_seconds(client: FlaskClient, clock: Clock) -> None:
    clock.freeze()
    token = get_token(client)
    clock.advance(3601)
    response = _handoff(client, token)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


def test_token_still_works_at_3599_seconds(client: FlaskClient, clock: Clock) -> None:
    clock.freeze()
    token = get_token(client)
    clock.advance(3599)
    assert _handoff(client, token).status_code == 303


REFUSALS = [
    ("unknown-token", "no-such-token", "COMMUNITY1", 404, "not known"),
    ("wrong-community", None, "OTHERCOMMUNITY", 403, "communityCode does not belong"),
    ("missing-community", None, "", 400, "communityCode"),
    ("missing-token", "", "COMMUNITY1", 400, "token"),
]


@pytest.mark.parametrize(
    ("token", "community", "status", "message"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_refused_handoff_shows_an_error_page_and_consumes_nothing(
    client: FlaskClient,
    state: State,
    token: str | None,
    community: str,
    status: int,
    message: str,
) -> None:
    real = get_token(client)
    response = _handoff(client, real if token is None else token, community)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert message in response.get_data(as_text=True)
    record = state.store.record(records.NS_TOKEN, real)
    assert record is not None
    assert not record.used
    assert _handoff(client, real).status_code == 303  # the real token still works


def test_invoicing_token_hands_off_to_the_invoices_page(client: FlaskClient) -> None:
    token = get_token(client, connectionType="INVOICING", product="INVOICING")
    response = _handoff(client, token)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pay your invoices" in page
    assert 'id="invoice-INV-5001"' in page


def test_quickconnect_token_without_return_url_is_refused_and_kept(
    client: FlaskClient, state: State
) -> None:
    token = get_token(client, connectionType="QUICKCONNECT")
    response = _handoff(client, token)
    assert response.status_code == 400
    assert "returnUrl" in response.get_data(as_text=True)
    record = state.store.record(records.NS_TOKEN, token)
    assert record is not None
    assert not record.used


def test_injected_fault_on_handoff_renders_an_error_page(client: FlaskClient, state: State) -> None:
    token = get_token(client)
    state.add_fault({"provider": "quickstream", "endpoint": "handoff", "status": 503})
    response = _handoff(client, token)
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert _handoff(client, token).status_code == 303  # the fault consumed nothing


def test_fifty_concurrent_handoffs_give_exactly_one_payment_page(mockbank: Mockbank) -> None:
    token_url = mockbank.url("quickstream", "/CommunityTokenRequestServlet")
    token = requests.post(token_url, data=token_params(), timeout=10).text.removeprefix("token=")
    handoff_url = mockbank.url("quickstream", "/OnlinePaymentServlet3")
    barrier = threading.Barrier(50)

    def attempt(_: int) -> tuple[int, str]:
        with requests.Session() as session:
            barrier.wait(timeout=10)
            response = session.post(
                handoff_url,
                data={"token": token, "communityCode": "COMMUNITY1"},
                allow_redirects=False,
                timeout=30,
            )
            if response.status_code != 303:
                return response.status_code, ""
            page = session.get(mockbank.server.url + response.headers["Location"], timeout=30)
            return page.status_code, page.text

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(attempt, range(50)))
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 1, 410: 49}
    pages = [html for status, html in results if status == 200]
    assert "Payment details" in pages[0]
    sessions = mockbank.state.store.records(records.NS_SESSION)
    assert len(sessions) == 1


def test_token_request_path_is_not_a_page(client: FlaskClient) -> None:
    # The API path answers text even when the request looks like a browser's.
    response = client.post(TOKEN_PATH, data={"username": ""}, headers={"Accept": "text/html"})
    assert response.status_code == 401
    assert response.get_data(as_text=True).startswith("error=")
