"""scripts/demo_syspay.py runs against a live server and tells the story it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.processes import run_script

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo_syspay.py"


def test_demo_walks_through_tokenize_detokenize_view_and_refusal(
    mockbank: Any, tmp_path: Path
) -> None:
    png = tmp_path / "card.png"
    out = run_script("demo_syspay.py", "--base-url", mockbank.server.url, "--save-png", str(png))
    assert "token 1000002: 555555******4444 (MASTERCARD)" in out
    assert "GET the same URL again -> HTTP 410" in out
    assert "replay the partner header -> HTTP 403" in out
    assert "image/png" in out
    assert "imageOnlyPartner detokenizes -> HTTP 403" in out
    assert "as myMerchantLogin -> HTTP 200" in out
    assert "GET the token as myPartnerLogin for myMerchantLogin -> HTTP 200" in out
    assert "(not linked to the merchant) -> HTTP 403" in out
    assert "All steps answered as documented." in out
    assert "5555555555554444" not in out
    assert png.read_bytes()[:4] == b"\x89PNG"
    views = mockbank.state.provider_state("syspay")["redirects"]
    assert [v["status"] for v in views] == ["VIEWED", "VIEWED", "VIEWED"]
    assert [v["requested_by"] for v in views] == ["partner", "partner", "merchant"]


def test_demo_reports_an_unreachable_server() -> None:
    result = subprocess.run(
        [sys.executable, str(DEMO), "--base-url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot reach mockbank" in result.stderr
