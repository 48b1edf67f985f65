"""The benchmarks run and print their ratios (figures are read by people, never asserted)."""

from __future__ import annotations

import pytest

from tests.processes import SCRIPTS, run_script

BENCH = SCRIPTS / "bench"


def run(script: str, *args: str) -> str:
    return run_script(f"bench/{script}", *args, timeout=180, cwd=BENCH)


@pytest.mark.slow
def test_startup_benchmark_prints_launch_to_health() -> None:
    assert "launch to health, seconds:" in run("startup.py", "--runs", "1")


@pytest.mark.slow
def test_inprocess_benchmark_prints_its_ratio() -> None:
    assert "in-process / stub = " in run("inprocess.py", "--calls", "30")


@pytest.mark.slow
def test_token_request_benchmark_prints_its_ratios() -> None:
    output = run(
        "token_request.py", "--seconds", "1", "--rounds", "1", "--connections", "4", "--no-wiremock"
    )
    assert "mockbank / minimal Flask = " in output
    assert "mockbank / bare WSGI     = " in output


@pytest.mark.slow
def test_cluster_benchmark_prints_each_setup() -> None:
    output = run("cluster.py", "--seconds", "1", "--connections", "4", "--max-instances", "2")
    assert "1 instance, memory store" in output
    assert "2 instance(s), PostgreSQL, nginx" in output
    assert "vs memory" in output


@pytest.mark.slow
def test_server_comparison_prints_each_servers_figures_and_ratio() -> None:
    import shutil

    output = run("servers.py", "--seconds", "1", "--rounds", "1", "--idle", "50")
    for line in ("health with 50 idle + slowloris:", "keep-alive: yes", "one process: yes"):
        assert line in output
    assert "drop fault: connection broken" in output
    if shutil.which("wrk"):
        assert "granian / waitress throughput = " in output


@pytest.mark.slow
def test_proxy_benchmark_prints_both_rates() -> None:
    output = run("proxy.py", "--requests", "20")
    assert "direct HTTPS:" in output
    assert "through HTTPS proxy:" in output
    assert "ratio proxy/direct:" in output
