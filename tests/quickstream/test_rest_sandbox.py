"""The REST API inside a sandbox: links stay in it, and its records are its own."""

from __future__ import annotations

import requests

from mockbank.pytest_plugin import Mockbank
from tests.quickstream.helpers import Rest, payment


def test_rest_api_in_a_sandbox_keeps_its_links_and_records_apart(mockbank: Mockbank) -> None:
    root = mockbank.server.url
    made = requests.post(root + "/_mockbank/sandboxes", json={"name": "team-rest"}, timeout=10)
    assert made.status_code in (200, 201), made.text
    try:
        inside = Rest(root + "/s/team-rest/quickstream/rest/v1")
        paid = inside.transact(payment(12.00, singleUseTokenId=inside.token())).json()
        assert paid["status"] == "Approved"
        hrefs = [link["href"] for link in paid["links"]]
        assert hrefs
        assert all(h.startswith(inside.base + "/") for h in hrefs)
        assert inside.call("GET", f"/transactions/{paid['receiptNumber']}").status_code == 200
        outside = Rest(mockbank.url("quickstream", "/rest/v1"))
        assert outside.call("GET", "/transactions").json()["data"] == []
        script = requests.get(inside.base + "/quickstream-api-1.0.min.js", timeout=10)
        assert script.status_code == 200
        assert "QuickstreamAPI" in script.text
        frame = requests.get(
            inside.base + "/trusted-frame/credit-card",
            params={"origin": "http://127.0.0.1:5000", "frameId": "f1"},
            timeout=10,
        )
        assert frame.status_code == 200
        assert 'data-token-url="/s/team-rest/quickstream/rest/v1/single-use-tokens"' in frame.text
    finally:
        requests.delete(root + "/_mockbank/sandboxes/team-rest", timeout=10)
