"""scripts/bench/soak.py runs in a short form and prints its figures (never asserted as timings)."""

from __future__ import annotations

import re

import pytest

from tests.processes import SCRIPTS, run_script


@pytest.mark.slow
def test_soak_short_form_prints_rss_at_each_tenth_and_the_slope() -> None:
    out = run_script(
        "bench/soak.py",
        "--requests",
        "1200",
        "--connections",
        "2",
        timeout=300,
        cwd=SCRIPTS / "bench",
    )
    rows = re.findall(r"^\s*(\d+)\s+(\d+\.\d)$", out, re.MULTILINE)
    assert len(rows) == 11, out  # the start and each tenth
    assert int(rows[-1][0]) == 1200
    assert all(float(rss) > 0 for _, rss in rows)
    assert re.search(r"slope over the second half: [+-]\d+\.\d+ MiB per 10,000 requests", out)
    assert re.search(r"growth over the second half: [+-]\d+\.\d+%", out)
    assert "5xx answers: 0" in out, out
