"""`mockbank serve` runs the proxy beside the app; `mockbank ca` prints the CA it uses."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mockbank.clock import monotonic
from tests.forter.helpers import TOKEN

pytestmark = [
    pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed"),
    pytest.mark.slow,
]


def test_serve_starts_the_proxy_and_ca_command_names_its_ca(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "mockbank.cli",
        "serve",
        "--port",
        "0",
        "--proxy-port",
        "0",
        "--state",
        str(tmp_path),
        "--upstream",
        "api.forter-secure.com=echo",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKBANK_")}
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        proxy_url = ""
        deadline = monotonic() + 30
        assert server.stdout is not None
        while monotonic() < deadline and not proxy_url:
            line = server.stdout.readline()
            if "forter proxy" in line:
                proxy_url = line.split()[-1]
        assert proxy_url.startswith("http://127.0.0.1:")
        ca = subprocess.run(
            [sys.executable, "-m", "mockbank.cli", "ca", "--state", str(tmp_path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=True,
        ).stdout.strip()
        assert ca == str(tmp_path / "ca" / "ca.pem")
        done = subprocess.run(
            [
                "curl",
                "--silent",
                "--show-error",
                "--cacert",
                ca,
                "-x",
                proxy_url.replace("http://", "http://SITE_ID:SITE_SECRET@"),
                "--proxy-header",
                f"forter-token: {TOKEN}",
                "-H",
                "Content-Type: application/json",
                "-d",
                '{"last4": "{{ card_last_four }}"}',
                "https://api.forter-secure.com/v3/adaptive-auth/3ds/init",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(json.loads(done.stdout)["body"]) == {"last4": "1111"}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
        if server.stdout is not None:
            server.stdout.close()
