"""Generated bad input never gets a 5xx and always gets QuickStream's own error format; the
flow works the same on the SQLite store."""

from __future__ import annotations

import random
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.providers.quickstream import records
from mockbank.providers.quickstream.models import payment_form
from mockbank.providers.quickstream.models.common import KNOWN
from tests.quickstream.helpers import (
    HANDOFF_PATH,
    TOKEN_PATH,
    card_form,
    get_token,
    open_session,
    token_params,
)

NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1e3",
    "99999999999.99",
    "NaN",
    "QUICKWEB",
    "AUD",
    "https://x",
    "http://127.0.0.1/",
    "javascript:alert(1)",
    "é€😀",
    "\x00",
    "a" * 5000,
    "%zz",
    "<script>",
    "true",
    "4242424242424242",
]


def _value(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(NASTY)
    return "".join(chr(rng.randrange(1, 0x2FF)) for _ in range(rng.randrange(0, 40)))


@pytest.mark.slow
def test_generated_token_requests_never_fail_with_5xx(client: FlaskClient) -> None:
    rng = random.Random(3)
    names = [*KNOWN, "customTitle", "customx", "custom", "extra", ""]
    for _ in range(800):
        params = token_params()
        for _ in range(rng.randrange(1, 5)):
            name = rng.choice(names) if rng.random() < 0.7 else _value(rng)
            params[name] = _value(rng)
        if rng.random() < 0.2:
            params.pop(rng.choice(list(params)), None)
        body = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in params.items())
        if rng.random() < 0.1:
            body += "&%ff=%fe" if rng.random() < 0.5 else "&" + body
        content_type = rng.choice(
            ["application/x-www-form-urlencoded"] * 8 + ["text/plain", "application/json"]
        )
        response = client.post(TOKEN_PATH, data=body.encode(), content_type=content_type)
        text = response.get_data(as_text=True)
        assert response.status_code in (200, 400, 401, 403), (params, text)
        assert text.startswith("token=" if response.status_code == 200 else "error="), text


def test_generated_handoffs_never_fail_with_5xx(client: FlaskClient) -> None:
    rng = random.Random(4)
    token = get_token(client)
    for _ in range(300):
        data = {
            "token": rng.choice([token[:-1], _value(rng), token + "x"]),
            "communityCode": _value(rng),
        }
        response = client.post(HANDOFF_PATH, data=data)
        assert response.status_code in (400, 403, 404), data
        assert response.headers["Content-Type"].startswith("text/html")
    assert (
        client.post(HANDOFF_PATH, data={"token": token, "communityCode": "COMMUNITY1"}).status_code
        == 303
    )


@pytest.mark.slow
def test_generated_payment_forms_never_fail_with_5xx(client: FlaskClient) -> None:
    rng = random.Random(5)
    page, csrf = open_session(client, principalAmount=None)
    fields = list(payment_form.PAGE_FIELDS)
    paid = 0
    for _ in range(500):
        form = card_form(csrf, amount="10.00")
        for _ in range(rng.randrange(1, 4)):
            form[rng.choice(fields)] = _value(rng)
        response = client.post(page + "/pay", data=form)
        assert response.status_code in (303, 400, 409), form
        paid += response.status_code == 303
    assert paid <= 1
    assert len(client.application.extensions["mockbank"].store.records(records.NS_PAYMENT)) == paid


def test_whole_flow_on_the_sqlite_store(tmp_path: Path) -> None:
    app = create_app({"state_path": tmp_path})
    try:
        client = app.test_client()
        page, csrf = open_session(client, registerPaymentAccount="true")
        assert client.post(page + "/pay", data=card_form(csrf, cvn="1")).status_code == 400
        assert client.post(page + "/pay", data=card_form(csrf)).status_code == 303
        assert client.post(page + "/pay", data=card_form(csrf)).status_code == 409
        view = client.get("/_mockbank/state/quickstream").get_json()
        assert len(view["payments"]) == 1
        assert len(view["vaultAccounts"]) == 1
        assert view["tokens"][0]["status"] == "used"
    finally:
        app.extensions["mockbank"].close()
