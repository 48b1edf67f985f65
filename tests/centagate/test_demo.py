"""scripts/demo_centagate.py runs against a live server and narrates every step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import segno
from PIL import Image

from tests.processes import run_script

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_centagate.py"


@pytest.mark.slow
def test_demo_script_walks_through_signing_and_three_refusals(
    mockbank: Any, tmp_path: Path
) -> None:
    out = run_script(
        "demo_centagate.py", "--base-url", mockbank.server.url, "--out-dir", str(tmp_path)
    )
    assert "authQRCode: code 0 'Success'" in out
    assert "replay): code 23001" in out
    assert "a wrong OTP: code 23001" in out
    assert "wrong secret key: code 55000" in out
    assert "every step answered as expected" in out
    [png] = tmp_path.glob("centagate-qr-*.png")
    with Image.open(png) as image:
        assert image.format == "PNG"
    transactions = mockbank.state.provider_state("centagate")["transactions"]
    assert [t["details"] for t in transactions] == ["Transfer RM 250.00 to Bob"]


# segno's compact terminal output: each character is two module rows, light drawn as a block.
HALF_BLOCKS = {"\u2588": (0, 0), " ": (1, 1), "\u2580": (0, 1), "\u2584": (1, 0)}


@pytest.mark.slow
def test_demo_terminal_qr_is_the_qr_code_of_the_issued_challenge(
    mockbank: Any, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--base-url", mockbank.server.url,
         "--out-dir", str(tmp_path)],
        capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    content = next(
        line.split("qrCode ", 1)[1] for line in result.stdout.splitlines() if "qrCode " in line
    )
    block = [
        line
        for line in result.stdout.splitlines()
        if line and set(line) <= set(HALF_BLOCKS) and "\u2588" in line
    ]
    drawn: list[list[int]] = []
    for line in block:
        rows = [[HALF_BLOCKS[c][0] for c in line], [HALF_BLOCKS[c][1] for c in line]]
        drawn.extend(rows)
    # A full QR (not Micro QR) of exactly the qrCode string, with a 4-module quiet zone.
    expected = [list(row) for row in segno.make_qr(content, error="m").matrix_iter(border=4)]
    assert len(block[0]) == len(expected[0])
    # segno drops the last quiet-zone row when the symbol has an odd number of rows.
    assert len(expected) - 1 <= len(drawn) <= len(expected) + 1
    common = min(len(drawn), len(expected))
    assert drawn[:common] == expected[:common]
    assert all(not any(row) for row in expected[common:] + drawn[common:])
