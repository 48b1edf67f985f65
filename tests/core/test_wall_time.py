"""One reader of the machine's time: mockbank/clock.py. ruff refuses every other spelling."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ruff.__main__ import find_ruff_bin

from mockbank.accesslog import _iso
from mockbank.clock import Clock, monotonic, wall_epoch

ROOT = Path(__file__).resolve().parents[2]
BANNED = [
    "import time\nx = time.time()\n",
    "import time\nx = time.time_ns()\n",
    "import time\nx = time.monotonic()\n",
    "import time\nx = time.perf_counter()\n",
    "import time\nx = time.gmtime()\n",
    "import time\nx = time.localtime()\n",
    "from time import monotonic\nx = monotonic()\n",
    "from datetime import datetime\nx = datetime.now()\n",
    "from datetime import datetime\nx = datetime.utcnow()\n",
    "from datetime import date\nx = date.today()\n",
    "from email.utils import formatdate\nx = formatdate()\n",
]


def _ruff(source: str, filename: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [find_ruff_bin(), "check", "--select", "TID251", "--stdin-filename", filename, "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize("source", BANNED, ids=lambda s: s.splitlines()[-1])
@pytest.mark.parametrize("where", ["mockbank/routing.py", "tests/core/x.py", "scripts/x.py"])
def test_ruff_refuses_wall_time_outside_the_clock(source: str, where: str) -> None:
    found = _ruff(source, where)
    assert found.returncode == 1, found.stdout
    assert "TID251" in found.stdout


def test_the_clock_module_may_read_the_machine_time() -> None:
    assert _ruff(BANNED[0], "mockbank/clock.py").returncode == 0


def test_monotonic_never_goes_back() -> None:
    readings = [monotonic() for _ in range(1000)]
    assert readings == sorted(readings)


def test_wall_epoch_is_what_a_running_app_clock_reads() -> None:
    before = wall_epoch()
    app_clock = Clock().epoch()
    after = wall_epoch()
    assert before <= app_clock <= after


def test_access_log_times_are_utc_with_milliseconds() -> None:
    assert _iso(0.5) == "1970-01-01T00:00:00.500Z"
    assert _iso(1_400_000_000.25) == "2014-05-13T16:53:20.250Z"
