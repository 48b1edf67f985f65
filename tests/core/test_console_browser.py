"""The dashboard console in Chromium: clock, inspector, faults, resets, outbox, token prompt.

Screenshots of every page go to ``artifacts/console-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.testing import LiveServer
from tests.core.helpers import Receiver
from tests.quickstream.helpers import token_params

CARD = "4111111111111111"
TOKEN_REQUEST = token_params(paymentReference=None, customerReferenceNumber=None)


def _watch(page: Any) -> list[str]:
    """Collect console errors and failed requests: a page that works shows none."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return problems


def test_provider_base_urls_answer_with_the_console_page(client: FlaskClient) -> None:
    for name in ("quickstream", "syspay", "centagate", "forter", "tokenos"):
        answer = client.get(f"/{name}")
        assert answer.status_code == 200
        assert answer.mimetype == "text/html"
        html = answer.get_data(as_text=True)
        assert f'data-provider="{name}"' in html
        assert "<script>" not in html
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert client.get("/nobank").status_code == 404
    assert client.get("/_mockbank/requests").get_json()["requests"] == []  # not journaled


def test_console_data_has_every_provider_and_masks_the_journal(client: FlaskClient) -> None:
    client.get(f"/syspay/nothing/{CARD}")
    overview = client.get("/_mockbank/console").get_json()
    assert [p["name"] for p in overview["providers"]] == [
        "quickstream",
        "syspay",
        "centagate",
        "forter",
        "tokenos",
    ]
    page = client.get("/_mockbank/console/syspay").get_json()
    assert page["records"]["tokens"]
    assert any(r["view"] for r in page["routes"])
    assert page["magic_values"]
    entry_id = client.get("/_mockbank/requests").get_json()["requests"][0]["id"]
    entry = client.get(f"/_mockbank/requests/{entry_id}").get_json()
    assert entry["path"] == "/syspay/nothing/411111******1111"
    assert client.get("/_mockbank/requests/999").status_code == 404
    assert CARD not in client.get("/_mockbank/console").get_data(as_text=True)


@pytest.mark.browser
def test_every_console_page_renders_without_errors(
    mockbank: Any, page: Any, artifacts: Path
) -> None:
    problems = _watch(page)
    requests.post(mockbank.url("quickstream", "/CommunityTokenRequestServlet"), data=TOKEN_REQUEST)
    page.goto(mockbank.server.url + "/")
    page.locator("#cards section.card").first.wait_for()
    assert page.title() == "mockbank dashboard"
    assert page.locator("#cards section.card").count() == 5
    assert page.locator("#cards section.card[data-provider=syspay] dd").count() > 0
    assert page.locator("#cards section.card[data-provider=tokenos] dd").count() > 0
    page.locator("#requests td.path", has_text="CommunityTokenRequestServlet").wait_for()
    page.screenshot(path=str(artifacts / "console-overview.png"), full_page=True)
    for name in mockbank.state.providers:
        page.goto(f"{mockbank.server.url}/{name}")
        page.locator("#records h3").first.wait_for()
        assert page.locator("h1").inner_text() == mockbank.state.providers[name].title
        page.screenshot(path=str(artifacts / f"console-{name}.png"), full_page=True)
    assert problems == []


@pytest.mark.browser
def test_advancing_the_clock_expires_a_token_on_the_provider_page(
    mockbank: Any, page: Any, artifacts: Path
) -> None:
    answer = requests.post(
        mockbank.url("quickstream", "/CommunityTokenRequestServlet"), data=TOKEN_REQUEST
    )
    assert answer.text.startswith("token=")
    page.goto(mockbank.url("quickstream"))
    status = page.locator("[data-records=tokens] td[data-column=status]")
    status.first.wait_for()
    assert status.first.inner_text() == "active"
    before = page.locator("#clock-now").inner_text()
    page.get_by_role("button", name="+1 day").click()
    page.locator("[data-records=tokens] td[data-column=status]", has_text="expired").wait_for()
    assert page.locator("#clock-now").inner_text() != before
    assert mockbank.clock.snapshot()["offset_s"] >= 86_399
    page.screenshot(path=str(artifacts / "console-token-expired.png"), full_page=True)
    page.get_by_role("button", name="freeze").click()
    page.locator("#clock-state", has_text="frozen").wait_for()
    assert mockbank.clock.frozen
    page.get_by_role("button", name="resume").click()
    page.locator("#clock-state", has_text="running").wait_for()
    mockbank.clock.resume()


@pytest.mark.browser
def test_a_fault_added_in_the_console_fires_and_shows_in_the_inspector(
    mockbank: Any, page: Any, artifacts: Path
) -> None:
    page.goto(mockbank.server.url + "/")
    page.locator("#fault-provider").select_option("quickstream")
    page.locator("#fault-endpoint").select_option("token-request")
    page.locator("#fault-value").fill("503")
    page.get_by_role("button", name="add fault").click()
    page.locator("#fault-list tr[data-fault-row]", has_text="quickstream/token-request").wait_for()
    assert [f.endpoint for f in mockbank.state.faults.list()] == ["token-request"]
    answer = requests.post(
        mockbank.url("quickstream", "/CommunityTokenRequestServlet"), data=TOKEN_REQUEST
    )
    assert answer.status_code == 503
    row = page.locator("#requests tr.faulted", has_text="CommunityTokenRequestServlet")
    row.wait_for()
    assert "503" in row.inner_text()
    assert "fault" in row.inner_text()
    page.locator("#fault-list tr[data-fault-row]").wait_for(state="detached")
    row.click()
    page.locator("#detail dd", has_text="token-request").wait_for()
    notes = page.locator("#detail dl.tree").first.inner_text()
    assert "fault" in notes
    assert "503" in notes
    page.screenshot(path=str(artifacts / "console-fault-fired.png"), full_page=True)


@pytest.mark.browser
def test_opening_a_request_shows_masked_headers_bodies_and_a_replay_curl(
    mockbank: Any, page: Any, artifacts: Path
) -> None:
    requests.post(
        mockbank.url("forter", f"/v9/nothing/{CARD}"),
        json={"card": CARD},
        headers={"X-Trace": "abc"},
    )
    page.goto(mockbank.url("forter"))
    row = page.locator("#requests tbody tr[data-id]", has_text="/forter/v9/nothing")
    row.click()
    curl = page.locator("#curl")
    curl.wait_for()
    text = curl.inner_text()
    url = f"{mockbank.server.url}/forter/v9/nothing/411111******1111"
    assert text.startswith(f"curl -i -X POST '{url}'")
    assert "-H 'X-Trace: abc'" in text
    assert "--data-raw" in text
    assert CARD not in page.locator("#inspector").inner_text()
    assert "411111******1111" in page.locator("#request-body").inner_text()
    assert page.locator("#detail").inner_text().count("X-Request-Id") == 1
    assert "ms" in page.locator("#detail dl.creds").inner_text()
    page.screenshot(path=str(artifacts / "console-request-detail.png"), full_page=True)


@pytest.mark.browser
def test_resetting_a_provider_from_its_page_forgets_its_records(mockbank: Any, page: Any) -> None:
    requests.post(mockbank.url("quickstream", "/CommunityTokenRequestServlet"), data=TOKEN_REQUEST)
    requests.get(mockbank.url("syspay", "/kept"))
    page.goto(mockbank.url("quickstream"))
    page.locator("[data-records=tokens] td[data-column=status]").first.wait_for()
    page.get_by_role("button", name="reset quickstream").click()
    page.locator("#alert", has_text="quickstream reset").wait_for()
    page.get_by_role("heading", name="tokens (0)", exact=True).wait_for()
    assert mockbank.state.provider_state("quickstream")["tokens"] == []
    assert [e.provider for e in mockbank.state.requests()] == ["syspay"]


@pytest.mark.browser
def test_redelivering_an_outbox_message_records_a_new_attempt(
    mockbank: Any, page: Any, artifacts: Path
) -> None:
    receiver = Receiver([500, 200])
    try:
        message = mockbank.state.outbox.send_http(
            "quickstream", receiver.url + "/notify", body=b"x=1", retry_delays=(0.0,)
        )
        mockbank.state.outbox.wait_idle()
        page.goto(mockbank.server.url + "/")
        row = page.locator(f"#outbox-list tr[data-message='{message.id}']")
        row.locator(".status-failed").wait_for()
        assert row.locator("ol.attempts li").count() == 1
        row.get_by_role("button", name="redeliver").click()
        row.locator(".status-delivered").wait_for()
        assert row.locator("ol.attempts li").count() == 2
        assert "HTTP 200" in row.locator("ol.attempts li").nth(1).inner_text()
        assert len(receiver.calls) == 2
        page.screenshot(path=str(artifacts / "console-outbox.png"), full_page=True)
    finally:
        receiver.close()


@pytest.fixture
def guarded() -> Iterator[LiveServer]:
    app = create_app({"state_path": None, "control_token": "console-token"})
    with LiveServer(app) as server:
        yield server
    app.extensions["mockbank"].close()


@pytest.mark.browser
def test_with_a_control_token_the_console_asks_once_and_shows_a_401(
    guarded: LiveServer, page: Any, artifacts: Path
) -> None:
    page.goto(guarded.url + "/")
    page.locator("#token-form").wait_for()
    assert "401" in page.locator("#alert").inner_text()
    assert page.locator("#cards").count() == 0
    assert "merchant-secret" not in page.content()
    page.screenshot(path=str(artifacts / "console-token-prompt.png"))
    page.locator("#token-input").fill("wrong")
    page.get_by_role("button", name="use token").click()
    page.locator("#token-form").wait_for()
    assert "401" in page.locator("#alert").inner_text()
    page.locator("#token-input").fill("console-token")
    page.get_by_role("button", name="use token").click()
    page.locator("#cards section.card").first.wait_for()
    assert "merchant-secret" in page.content()
    page.goto(guarded.url + "/syspay")  # kept for the session: not asked again
    page.locator("#records h3").first.wait_for()
    assert page.locator("#token-form").is_hidden()


@pytest.mark.browser
def test_the_console_switches_between_sandboxes(
    mockbank: Any, mockbank_sandbox: Any, page: Any, artifacts: Path
) -> None:
    problems = _watch(page)
    answer = requests.post(
        mockbank_sandbox.url("quickstream", "/CommunityTokenRequestServlet"), data=TOKEN_REQUEST
    )
    assert answer.text.startswith("token=")
    page.goto(mockbank.server.url + "/quickstream")
    page.locator("#sandbox option", has_text=f"sandbox {mockbank_sandbox.name}").wait_for(
        state="attached"
    )
    page.select_option("#sandbox", mockbank_sandbox.name)
    page.wait_for_url(f"**/s/{mockbank_sandbox.name}/quickstream")
    status = page.locator("[data-records=tokens] td[data-column=status]")
    status.first.wait_for()
    assert status.first.inner_text() == "active"
    page.get_by_role("button", name="+1 day").click()
    page.locator("[data-records=tokens] td[data-column=status]", has_text="expired").wait_for()
    assert mockbank_sandbox.clock.snapshot()["offset_s"] >= 86_399
    assert abs(mockbank.clock.snapshot()["offset_s"]) < 5  # the default sandbox's clock stayed
    page.screenshot(path=str(artifacts / "console-sandbox.png"), full_page=True)
    nav = [a.get_attribute("href") for a in page.locator("#nav a").all()]
    assert all(href.startswith(f"/s/{mockbank_sandbox.name}/") for href in nav), nav
    page.select_option("#sandbox", "default")
    page.wait_for_url(f"{mockbank.server.url}/quickstream")
    assert problems == []
