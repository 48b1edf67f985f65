"""The Forter proxy serves a sandbox named in its credentials (``SITE_ID+<sandbox>``)."""

from __future__ import annotations

import requests

from mockbank.proxy.sandbox import split_credentials
from mockbank.pytest_plugin import ForterProxyHandle, Mockbank, MockbankSandbox
from tests.forter.helpers import TOKEN

URL = "https://api.forter-secure.com/v3/adaptive-auth/3ds/init"


def _post(forter: ForterProxyHandle, site_id: str, **headers: str) -> requests.Response:
    return requests.post(
        URL,
        data='{"card": "{{ card_number }}"}',
        headers={"Content-Type": "application/json", "forter-token": TOKEN, **headers},
        proxies=forter.proxies(site_id=site_id),
        verify=str(forter.ca_path),
        timeout=20,
    )


def test_credentials_with_a_sandbox_suffix_serve_that_sandbox(
    forter: ForterProxyHandle, echo_upstreams: Mockbank, mockbank_sandbox: MockbankSandbox
) -> None:
    response = _post(forter, f"SITE_ID+{mockbank_sandbox.name}")
    assert response.status_code == 200, response.text
    assert response.json()["body"] == '{"card": "4111111111111111"}'
    in_sandbox = mockbank_sandbox.state.requests(provider="forter")
    assert [e.endpoint for e in in_sandbox] == ["proxy-connect", "proxy"], in_sandbox
    assert echo_upstreams.state.requests(provider="forter") == []


def _connect(forter: ForterProxyHandle, user: str, secret: str = "SITE_SECRET") -> tuple[int, str]:
    """A bare CONNECT with Basic credentials: the status and body the proxy answers."""
    import base64
    import http.client
    from urllib.parse import urlsplit

    proxy = urlsplit(forter.url)
    connection = http.client.HTTPConnection(proxy.hostname or "", proxy.port, timeout=20)
    try:
        credentials = base64.b64encode(f"{user}:{secret}".encode()).decode()
        connection.request(
            "CONNECT",
            "api.forter-secure.com:443",
            headers={"Proxy-Authorization": f"Basic {credentials}"},
        )
        response = connection.getresponse()
        # After a 200 the tunnel waits for TLS: there is no body to read.
        return response.status, "" if response.status == 200 else response.read().decode()
    finally:
        connection.close()


def test_a_fault_in_the_sandbox_fires_only_for_its_proxy_users(
    forter: ForterProxyHandle, echo_upstreams: Mockbank, mockbank_sandbox: MockbankSandbox
) -> None:
    mockbank_sandbox.add_fault({"provider": "forter", "endpoint": "proxy", "status": 503})
    assert _post(forter, "SITE_ID").status_code == 200
    assert _post(forter, f"SITE_ID+{mockbank_sandbox.name}").status_code == 503


def test_an_unknown_sandbox_in_the_credentials_is_refused_naming_it(
    forter: ForterProxyHandle, echo_upstreams: Mockbank
) -> None:
    status, body = _connect(forter, "SITE_ID+no-such-sandbox")
    assert status == 404
    assert "no-such-sandbox" in body


def test_wrong_secret_with_a_sandbox_is_still_407(
    forter: ForterProxyHandle, echo_upstreams: Mockbank, mockbank_sandbox: MockbankSandbox
) -> None:
    assert _connect(forter, f"SITE_ID+{mockbank_sandbox.name}")[0] == 200
    assert _connect(forter, f"SITE_ID+{mockbank_sandbox.name}", "nope")[0] == 407


def test_split_credentials_only_takes_a_valid_sandbox_suffix() -> None:
    import base64

    def basic(text: str) -> str:
        return "Basic " + base64.b64encode(text.encode()).decode()

    assert split_credentials(basic("SITE_ID+team-a:s3cret")) == (basic("SITE_ID:s3cret"), "team-a")
    assert split_credentials(basic("SITE_ID:s3cret")) == (basic("SITE_ID:s3cret"), None)
    assert split_credentials(basic("SITE_ID+Bad Name:s")) == (basic("SITE_ID+Bad Name:s"), None)
    assert split_credentials("Bearer x") == ("Bearer x", None)
    assert split_credentials("Basic !!!") == ("Basic !!!", None)
