"""Running the project's scripts (demos, benchmarks) as users run them: as a process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def run_script(path: str, *args: str, timeout: float = 120, cwd: Path | None = None) -> str:
    """Run ``scripts/<path>`` with this interpreter; assert it exits 0; return its stdout."""
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )
    assert result.returncode == 0, f"scripts/{path} failed:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout
