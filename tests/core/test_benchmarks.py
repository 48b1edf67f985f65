"""The benchmarks run and print their ratios (figures are read by people, never asserted)."""

from __future__ import annotations

import pytest

from tests.processes import SCRIPTS, run_script

pytestmark = pytest.mark.slow  # each test runs a benchmark script

BENCH = SCRIPTS / "bench"


def run(script: str, *args: str) -> str:
    return run_script(f"bench/{script}", *args, timeout=180, cwd=BENCH)


@pytest.mark.slow
def test_startup_benchmark_prints_launch_to_health() -> None:
    output = run("startup.py", "--runs", "1")
    assert "launch to health, seconds:" in output
    assert "start-up / minimal Flask = " in output


@pytest.mark.slow
def test_inprocess_benchmark_prints_its_ratio() -> None:
    assert "in-process / stub = " in run("inprocess.py", "--calls", "30", "--rounds", "2")


def test_memory_benchmark_prints_bytes_per_live_token_of_each_kind() -> None:
    output = run("memory.py", "--count", "20")
    for kind in ("QuickStream token", "SysPay token", "Centagate challenge", "Forter token"):
        assert f"  {kind}:" in output
    assert "Token.io token request:" in output
    assert "Token.io token (its approval):" in output


@pytest.mark.slow
def test_table_prints_every_row_of_the_issue_table_or_a_skip_note() -> None:
    output = run_script("bench/table.py", "--short", timeout=900, cwd=BENCH)
    for line in (
        "token request / minimal Flask (same server) = ",
        "HTTPS through the Forter proxy / direct = ",
        "in-process / responses stub = ",
        "start-up / minimal Flask (same server) = ",
        "bytes per live token, QuickStream token: ",
        "bytes per live token, Token.io token (its approval): ",
    ):
        assert line in output, line
    # The peers are measured where installed; otherwise a note says what to install.
    assert "token request / WireMock static stub = " in output or "WireMock: skipped (" in output
    assert (
        "stateless call / moto_server GetQueueUrl = " in output
        or "moto_server: skipped (" in output
    )


def test_layers_profile_prints_each_layer_of_the_token_request() -> None:
    output = run("layers.py", "--paths", "token,inprocess", "--calls", "50", "--server-seconds=1")
    assert "QuickStream token request (server + WSGI app):" in output
    for layer in ("Flask dispatch", "request hooks", "provider logic", "requests + responses"):
        assert f"  {layer}" in output, layer


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


@pytest.mark.slow
def test_outbox_idle_benchmark_prints_threads_and_store_calls() -> None:
    output = run("outbox_idle.py", "--sandboxes", "5", "--seconds", "1")
    assert "5 idle sandboxes" in output
    assert "outbox threads: " in output
    assert "store calls per poll: " in output
