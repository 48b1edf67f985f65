"""The suite passes when run as a background job, as ``bash scripts/test.sh </dev/null &``.

A non-interactive shell starts background jobs with SIGINT ignored, and children inherit
that. This runs the tests that stop a server with Ctrl-C exactly that way.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.slow
def test_ctrl_c_server_tests_pass_in_a_background_job(tmp_path: Path) -> None:
    log = tmp_path / "log"
    selection = "tests/core/test_cli.py::test_serve_prints_urls_answers_and_stops_cleanly"
    script = (
        f"{sys.executable} -m pytest -q -n 0 -p no:cacheprovider '{selection}' "
        f"</dev/null >'{log}' 2>&1 & wait $!"
    )
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, timeout=300, check=False)
    output = log.read_text()
    assert done.returncode == 0, output
    assert "2 passed" in output
