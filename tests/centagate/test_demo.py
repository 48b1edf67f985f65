"""scripts/demo_centagate.py runs against a live server and narrates every step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from PIL import Image

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_centagate.py"


def test_demo_script_walks_through_signing_and_three_refusals(
    mockbank: Any, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--base-url", mockbank.server.url,
         "--out-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "authQRCode: code 0 'Success'" in out
    assert "replay): code 23016" in out
    assert "a wrong OTP: code 23001" in out
    assert "wrong secret key: code 23022" in out
    assert "every step answered as expected" in out
    [png] = tmp_path.glob("centagate-qr-*.png")
    with Image.open(png) as image:
        assert image.format == "PNG"
    transactions = mockbank.state.provider_state("centagate")["transactions"]
    assert [t["details"] for t in transactions] == ["Transfer RM 250.00 to Bob"]
