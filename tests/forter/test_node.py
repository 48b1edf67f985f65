"""The seed's Node examples run with Node, https-proxy-agent 7 and ``NODE_EXTRA_CA_CERTS``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mockbank.pytest_plugin import ForterProxyHandle, Mockbank

NODE_DIR = Path(__file__).parent / "node"
pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(
        not (NODE_DIR / "node_modules").is_dir(),
        reason="run `npm ci` in tests/forter/node first (CI does)",
    ),
]


def run_node(
    script: str, forter: ForterProxyHandle, tmp_path: Path, **extra_env: str
) -> list[dict[str, Any]]:
    """Run an example from a directory holding ./forter-proxy-ca.pem, as the seed expects."""
    shutil.copy(forter.ca_path, tmp_path / "forter-proxy-ca.pem")
    env = {
        k: v for k, v in os.environ.items() if "proxy" not in k.lower()
    }  # no HTTP(S)_PROXY: the agent is the only way out
    env.update(
        FORTER_PROXY_URL=forter.https_url,
        NODE_EXTRA_CA_CERTS=str(forter.ca_path),
        NODE_NO_WARNINGS="1",
        **extra_env,
    )
    done = subprocess.run(
        ["node", str(NODE_DIR / script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def no_proxy_headers(echo: dict[str, Any]) -> bool:
    return not [h for h in echo["headers"] if h.lower().startswith(("forter-", "proxy-"))]


def test_seed_node_adaptive_auth_3ds_with_forter_token(
    forter: ForterProxyHandle, tmp_path: Path
) -> None:
    [result] = run_node("adaptive_auth_3ds.mjs", forter, tmp_path)
    echo = result["data"]
    assert result["status"] == 200
    assert echo["path"] == "/v3/adaptive-auth/3ds/init"
    assert json.loads(echo["body"]) == {
        "fullCreditCard": "4111111111111111",
        "nameOnCard": "John Smith",
        "orderId": "235631407",
        "expirationMonth": "8",
        "expirationYear": "2030",
    }
    assert no_proxy_headers(echo)


def test_seed_node_worldpay_alias_with_unquoted_placeholders(
    forter: ForterProxyHandle, tmp_path: Path
) -> None:
    [result] = run_node("worldpay_alias.mjs", forter, tmp_path)
    echo = result["data"]
    assert echo["path"] == "/payments/authorizations"
    body = json.loads(echo["body"])  # valid JSON only once the bare placeholders are filled
    instrument = body["instruction"]["paymentInstrument"]
    assert instrument["cardNumber"] == "5555444433331111"
    assert instrument["cardExpiryDate"] == {"month": 11, "year": 2031}
    assert no_proxy_headers(echo)


def test_seed_node_stripe_cvc_update_with_cvc_token(
    forter: ForterProxyHandle, mockbank: Mockbank, tmp_path: Path
) -> None:
    results = run_node(
        "stripe_cvc.mjs", forter, tmp_path, FORTER_CVC_TOKEN="ftr1c0ffee00000000000000000000000001"
    )
    first = results[0]
    assert first["step"] == "cvc_update"
    assert first["data"]["path"] == "/v1/tokens"
    assert first["data"]["body"] == "cvc_update[cvc]=737"
    # The CVC token is single-use, so the second call fails with 555. stripe-node 8 parses the
    # JSON fine, turns the string "error" into {type: <the message>} (its OAuth path), then its
    # StripeError.generate() reaches `new GenericError(...)`, a name it never defines: the
    # ReferenceError is caught and reported as "Invalid JSON received from the Stripe API".
    error = results[1]
    assert error["step"] == "error"
    assert error["message"] == "Invalid JSON received from the Stripe API"
    assert error["exception"] == "ReferenceError: GenericError is not defined"
    assert error["parsed"]["code"] == "TOKEN_NOT_FOUND"
    assert error["parsed"]["status"] == 555
    assert "status" not in error  # stripe-node leaves error.statusCode unset on this path
    assert "already used" in error["parsed"]["error"]
    proxied = mockbank.state.requests(provider="forter", endpoint="proxy")
    assert proxied[0].notes["placeholders"] == ["cvc"]
    assert [(e.notes["target"], e.status) for e in proxied] == [
        ("https://api.stripe.com/v1/tokens", 200),
        ("https://api.stripe.com/v1/payment_intents", 555),
    ]


def test_seed_node_stripe_example_as_written_is_556(
    forter: ForterProxyHandle, mockbank: Mockbank, tmp_path: Path
) -> None:
    [result] = run_node("stripe_cvc.mjs", forter, tmp_path)
    assert result["step"] == "error"
    [proxied] = mockbank.state.requests(provider="forter", endpoint="proxy")
    assert proxied.status == 556
    assert "{{ cvc }}" in proxied.response_body or "cvc" in json.dumps(proxied.notes)
