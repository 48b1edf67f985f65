"""The pytest plugin, tested the way users meet it: through pytester."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow  # pytester runs whole pytest sessions

pytest_plugins = ["pytester"]


def test_live_server_and_inprocess_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makeini("""
        [pytest]
        mockbank_hosts =
            api.mybank.test=syspay
    """)
    pytester.makepyfile("""
        import requests

        def test_live_server(mockbank_server, mockbank):
            health = requests.get(mockbank_server.url + "/_mockbank/health", timeout=5)
            assert health.status_code == 200
            assert mockbank.url("syspay") == mockbank_server.url + "/syspay"
            mockbank.clock.advance(3600)
            clock = requests.get(mockbank.url("_mockbank", "/clock"), timeout=5).json()
            assert clock["offset_s"] >= 3599

        def test_state_was_reset_between_tests(mockbank):
            assert abs(mockbank.clock.snapshot()["offset_s"]) < 5

        def test_inprocess_routes_real_hostnames(mockbank_inprocess, mockbank):
            response = requests.get("https://api.mybank.test/no/such/path", timeout=5)
            assert response.status_code == 404
            assert response.headers["X-Request-Id"]
            entries = mockbank.journal.entries(provider="syspay")
            assert [e.path for e in entries] == ["/syspay/no/such/path"]

        def test_loopback_passes_through_inprocess(mockbank_inprocess, mockbank_server):
            response = requests.get(mockbank_server.url + "/_mockbank/health", timeout=5)
            assert response.json()["status"] == "ok"

        def test_clock_fixture(mockbank_clock):
            mockbank_clock.freeze()
            assert mockbank_clock.frozen
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


@pytest.mark.slow
def test_server_exceptions_are_reraised_in_the_test(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import pytest
        from flask import Blueprint

        @pytest.fixture(scope="session")
        def mockbank_app():
            from mockbank import create_app
            app = create_app()
            @app.get("/syspay/explode")
            def explode():
                raise KeyError("inside the server thread")
            return app
    """)
    pytester.makepyfile("""
        import requests

        def test_calls_a_broken_view(mockbank):
            response = requests.get(mockbank.url("syspay", "/explode"), timeout=5)
            assert response.status_code == 500
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*KeyError*inside the server thread*"])


@pytest.mark.slow
def test_each_xdist_worker_gets_its_own_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import os
        import pytest
        import requests

        @pytest.mark.parametrize("n", range(4))
        def test_server_per_worker(mockbank_server, mockbank, n):
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            assert requests.get(mockbank_server.url + "/_mockbank/health", timeout=5).ok
            with open(f"port-{worker}.txt", "a") as out:
                out.write(f"{mockbank_server.port} ")
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=4)
    ports = {path.name: set(path.read_text().split()) for path in pytester.path.glob("port-*")}
    assert sorted(ports) == ["port-gw0.txt", "port-gw1.txt"]
    assert all(len(p) == 1 for p in ports.values())  # one session server per worker
    assert ports["port-gw0.txt"] != ports["port-gw1.txt"]


@pytest.mark.slow
def test_sandbox_fixture_gives_each_test_its_own_sandbox(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import requests

        def test_first(mockbank_sandbox):
            assert mockbank_sandbox.url("syspay").endswith(f"/s/{mockbank_sandbox.name}/syspay")
            mockbank_sandbox.clock.advance(7200)
            clock = requests.get(mockbank_sandbox.url("_mockbank", "/clock"), timeout=5).json()
            assert clock["offset_s"] >= 7199
            mockbank_sandbox.add_fault({"provider": "syspay", "status": 503})
            detokenize = "/api/v2/partner/token/1000001/detokenize"
            assert requests.post(mockbank_sandbox.url("syspay", detokenize)).status_code == 503

        def test_second_starts_clean(mockbank_sandbox, mockbank_server):
            clock = requests.get(mockbank_sandbox.url("_mockbank", "/clock"), timeout=5).json()
            assert abs(clock["offset_s"]) < 5
            assert mockbank_sandbox.faults.list() == []
            names = requests.get(mockbank_server.url + "/_mockbank/sandboxes", timeout=5).json()
            assert [s["name"] for s in names["sandboxes"]] == [mockbank_sandbox.name]
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=2)
