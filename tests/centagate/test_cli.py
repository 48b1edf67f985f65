"""``mockbank centagate-otp``: the CENTAGATE app on the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mockbank.cli import main
from mockbank.clients.centagate import qr_content
from tests.centagate.helpers import Api, answer, reference_otp


def test_cli_prints_the_otp_for_a_live_qr_and_it_signs(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    issued = api.issue()
    assert main(["centagate-otp", "--device", "alice-device-1", "--qr", issued["qrCode"]]) == 0
    otp = capsys.readouterr().out.strip()
    assert otp == reference_otp("alice-device-secret", issued["otpChallenge"], issued["plainText"])
    assert answer(api.authorize(issued, otp=otp))[0] == 0


def test_cli_takes_an_explicit_secret(capsys: pytest.CaptureFixture[str]) -> None:
    content = qr_content("dev-x", "12345678", "dev-x|r|Pay")
    assert main(["centagate-otp", "--device", "dev-x", "--qr", content, "--secret", "s3"]) == 0
    assert capsys.readouterr().out.strip() == reference_otp("s3", "12345678", "dev-x|r|Pay")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--device", "alice-device-1", "--qr", "hello"], "not a Centagate QR"),
        (["--device", "bob-device-1", "--qr", qr_content("alice-device-1", "1", "t")], "not bob"),
        (["--device", "nobody", "--qr", qr_content("nobody", "1", "t")], "no device 'nobody'"),
    ],
    ids=["not-a-qr", "other-device", "unknown-device"],
)
def test_cli_errors_exit_2_with_a_reason(
    args: list[str], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["centagate-otp", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert error in captured.err


def test_cli_reads_device_secrets_from_a_fixtures_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(Path("fixtures/centagate.json").read_text())
    data["users"][0]["devices"][0]["secret"] = "rotated-secret"
    (tmp_path / "centagate.json").write_text(json.dumps(data))
    content = qr_content("alice-device-1", "7", "x")
    argv = ["centagate-otp", "--device", "alice-device-1", "--qr", content]
    assert main([*argv, "--fixtures", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == reference_otp("rotated-secret", "7", "x")


@pytest.mark.slow
def test_cli_runs_as_a_console_command(api: Api) -> None:
    issued = api.issue()
    result = subprocess.run(
        [sys.executable, "-m", "mockbank.cli", "centagate-otp", "--device", "alice-device-1",
         "--qr", issued["qrCode"]],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = reference_otp("alice-device-secret", issued["otpChallenge"], issued["plainText"])
    assert result.stdout.strip() == expected
