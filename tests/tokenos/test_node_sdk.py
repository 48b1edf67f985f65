"""The official JavaScript SDK @token-io/tpp@1.0.57 runs the documented flow unchanged."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mockbank.pytest_plugin import Mockbank
from tests.tokenos.pictures import png_bytes

NODE_DIR = Path(__file__).parent / "node"

pytestmark = pytest.mark.node


def _node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (NODE_DIR / "node_modules" / "@token-io" / "tpp").is_dir():
        pytest.skip(f"run `npm ci` in {NODE_DIR} first (node_modules is absent)")
    return node


@pytest.mark.slow
def test_sdk_runs_the_documented_flow_against_mockbank(mockbank: Mockbank) -> None:
    node = _node_or_skip()
    result = subprocess.run(
        [node, str(NODE_DIR / "flow.js"), mockbank.url("tokenos")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    steps = {line["step"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert steps["member"]["alias"].endswith(".com.noverify")
    assert steps["banks"]["ids"] == ["iron", "wood", "gold", "ngp-cbi-05034", "ob-modelo"]
    assert steps["banks"]["paymentPage2"] == ["wood"]
    consent_url = mockbank.url("tokenos", "/app/request-token/rq:")
    assert steps["transfer-request"]["url"].startswith(consent_url)
    assert steps["callback"]["tokenId"].startswith("tt:")
    assert steps["callback"]["innerState"] == "cart-42"
    assert "Invalid CSRF token" in steps["callback"]["wrongCsrf"]
    assert (steps["transfer"]["first"], steps["transfer"]["later"]) == ("PROCESSING", "SUCCESS")
    assert steps["access"]["accounts"] == ["a:iron-checking", "a:iron-savings"]
    assert steps["access"]["balance"] == {"currency": "EUR", "value": "4996.00"}
    assert steps["access"]["transactions"] == 5
    assert steps["cancel"]["actions"][-1] == "CANCELLED"
    assert steps["cancel"]["refusedAccess"] == "PERMISSION_DENIED"
    assert steps["cancel"]["refusedRedeem"] == "FAILED_PRECONDITION"
    assert steps["source-account"] == {
        "step": "source-account",
        "issuer": "iron",
        "source": "a:iron-savings",
    }
    assert (steps["funds"]["enough"], steps["funds"]["tooMuch"]) == (True, False)
    assert steps["funds"]["otherAccount"] == "PERMISSION_DENIED"
    assert "Error at bank: access_denied" in steps["deny"]["message"]
    assert steps["token-pages"]["ids"] == steps["token-pages"]["expected"]
    assert "done" in steps
    # Every call the SDK made was signed and verified: nothing went through leniently.
    notes = [e.notes for e in mockbank.journal.entries(provider="tokenos")]
    assert not any(n.get("auth") == "lenient" for n in notes)


@pytest.mark.slow
def test_the_merchant_samples_calls_run_unchanged(mockbank: Mockbank, tmp_path: Path) -> None:
    """Token.io's merchant sample flow: +noverify DOMAIN alias, profile picture, standing order,
    a future-dated transfer executing when the app clock reaches its date, one-step payment."""
    node = _node_or_skip()
    picture = tmp_path / "southside.png"
    picture.write_bytes(png_bytes(300, 200))
    result = subprocess.run(
        [node, str(NODE_DIR / "merchant_sample.js"), mockbank.url("tokenos"), str(picture)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    steps = {line["step"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert steps["start-up"]["alias"].endswith("+noverify@example.com")
    assert steps["start-up"]["pictureType"] == "image/png"
    assert steps["start-up"]["smallBytes"] < steps["start-up"]["originalBytes"]
    standing = steps["standing-order"]
    assert (standing["first"], standing["later"]) == ("PROCESSING", "SUCCESS")
    assert standing["frequency"] == "MNTH"
    assert standing["listed"] is True
    # Still PROCESSING a day before its date; executed once the clock reaches it.
    assert steps["future-dated"]["statuses"] == ["PROCESSING", "PROCESSING", "SUCCESS"]
    assert steps["one-step"] == {
        "step": "one-step",
        "issuer": "ngp-cbi-05034",
        "source": "a:bpm-conto",
        "status": "PROCESSING",
    }
    assert "done" in steps
