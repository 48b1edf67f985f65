"""`mockbank serve` refuses settings it cannot start with: one line a person can act on.

Each case runs the real command and asserts the exact line on stderr (starting
``mockbank: ``, naming the flag or variable and the value, with the fix), the exit code
(2: an invalid value; 3: a resource that cannot be used) and that no traceback is printed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mockbank.fixtures import default_dir
from tests.processes import free_port, wait_for_health

pytestmark = pytest.mark.slow  # each test launches `mockbank serve` processes

FIX = "use a number from 0 to 65535 (0 picks a free port)"
NO_STATE = "pick another path, or leave --state out to keep state in memory"


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MOCKBANK_")}
    return subprocess.run(
        [sys.executable, "-m", "mockbank.cli", "serve", "--quiet", *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _assert_refused(done: subprocess.CompletedProcess[str], line: str, code: int) -> None:
    assert done.stderr == line + "\n", done.stderr
    assert done.returncode == code
    assert done.stdout == ""
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (["--port", "99999"], {}, f"mockbank: --port 99999 is not a port; {FIX}"),
        (["--port", "-1"], {}, f"mockbank: --port -1 is not a port; {FIX}"),
        (["--proxy-port", "65536"], {}, f"mockbank: --proxy-port 65536 is not a port; {FIX}"),
        ([], {"MOCKBANK_PORT": "abc"}, f"mockbank: MOCKBANK_PORT=abc is not a port; {FIX}"),
        (
            [],
            {"MOCKBANK_PROXY_PORT": "70000"},
            f"mockbank: MOCKBANK_PROXY_PORT=70000 is not a port; {FIX}",
        ),
        (
            [],
            {"MOCKBANK_SEED": "x1"},
            "mockbank: MOCKBANK_SEED=x1 is not a whole number; give digits only, "
            "e.g. MOCKBANK_SEED 1234",
        ),
        (
            [],
            {"MOCKBANK_THREADS": "0"},
            "mockbank: MOCKBANK_THREADS=0 is too small; give a whole number of at least 1",
        ),
        (
            ["--upstream", "nonsense"],
            {},
            "mockbank: --upstream expects HOST=URL or HOST=echo, got 'nonsense'",
        ),
    ],
    ids=["port-high", "port-negative", "proxy-port", "env-port", "env-proxy-port", "env-seed",
         "env-threads", "upstream"],
)  # fmt: skip
def test_invalid_number_flags_and_variables_exit_2_naming_them(
    args: list[str], env: dict[str, str], line: str
) -> None:
    _assert_refused(_serve(*args, env=env), line, 2)


def test_a_bad_variable_is_named_even_when_a_flag_overrides_it() -> None:
    # The variable is still read: a wrong MOCKBANK_PORT is named even with --port given.
    done = _serve("--port", "0", env={"MOCKBANK_PORT": "abc"})
    _assert_refused(done, f"mockbank: MOCKBANK_PORT=abc is not a port; {FIX}", 2)


def _fixtures_with(tmp_path: Path, provider: str, change: object) -> Path:
    directory = tmp_path / "fixtures"
    shutil.copytree(default_dir(), directory)
    path = directory / f"{provider}.json"
    data = json.loads(path.read_text())
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data))
    return path


def test_unknown_key_in_a_fixture_record_names_file_and_json_path(tmp_path: Path) -> None:
    path = _fixtures_with(
        tmp_path, "quickstream", lambda d: d["facilities"][0].update(passbak={"secret": "x"})
    )
    done = _serve("--port", "0", "--fixtures", str(path.parent))
    _assert_refused(
        done,
        f'mockbank: {path}: unknown key "passbak" at facilities[0].passbak; '
        "remove it or fix its spelling",
        2,
    )


def test_unknown_nested_and_top_level_fixture_keys_are_refused(tmp_path: Path) -> None:
    path = _fixtures_with(
        tmp_path, "quickstream", lambda d: d["facilities"][0]["passback"].update(secrte="x")
    )
    done = _serve("--port", "0", "--fixtures", str(path.parent))
    _assert_refused(
        done,
        f'mockbank: {path}: unknown key "secrte" at facilities[0].passback.secrte; '
        "remove it or fix its spelling",
        2,
    )
    path = _fixtures_with(tmp_path / "b", "forter", lambda d: d.update(site=[]))
    done = _serve("--port", "0", "--fixtures", str(path.parent))
    _assert_refused(
        done, f'mockbank: {path}: unknown key "site" at site; remove it or fix its spelling', 2
    )


def test_a_map_in_a_fixture_takes_new_keys(tmp_path: Path) -> None:
    # Surcharges are keyed by card scheme: a scheme the shipped file lacks is not a typo.
    from mockbank.fixtures import FixtureReader, load_json, shipped_keys
    from mockbank.providers.quickstream.admin import load_fixtures

    path = _fixtures_with(
        tmp_path, "quickstream", lambda d: d["facilities"][0]["surcharges"].update(DINERS="1.50")
    )
    reader = FixtureReader(*load_json(path.parent, "quickstream"))
    load_fixtures(reader)
    reader.check_unknown_keys(shipped_keys("quickstream"))


def test_state_that_is_a_file_exits_3_naming_the_path(tmp_path: Path) -> None:
    target = tmp_path / "state.txt"
    target.write_text("not a directory")
    done = _serve("--port", "0", "--state", str(target))
    _assert_refused(done, f"mockbank: --state {target} is a file, not a directory; {NO_STATE}", 3)
    done = _serve("--port", "0", env={"MOCKBANK_STATE": str(target / "inner")})
    _assert_refused(
        done,
        f"mockbank: MOCKBANK_STATE {target / 'inner'}: {target} is a file, not a directory; "
        f"{NO_STATE}",
        3,
    )


def test_state_with_a_missing_parent_exits_3_naming_the_parent(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "state"
    done = _serve("--port", "0", "--state", str(target))
    parent = target.parent
    _assert_refused(
        done,
        f"mockbank: --state {target}: its parent directory {parent} does not exist; "
        f"create it (mkdir -p {parent}) or {NO_STATE}",
        3,
    )


def test_read_only_state_exits_3_naming_the_path(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root writes through a 0555 directory; /proc/self is read-only even for root.
        target, blocked = Path("/proc/self/mockbank-state"), Path("/proc/self")
        if not Path("/proc/self").is_dir():
            pytest.skip("running as root without /proc: no read-only directory to try")
        what = "parent directory"
    else:
        target = blocked = tmp_path / "ro"
        target.mkdir()
        target.chmod(0o555)
        what = "directory"
    done = _serve("--port", "0", "--state", str(target))
    _assert_refused(
        done,
        f"mockbank: --state {target}: the {what} {blocked} is not writable by this user; "
        f"change its permissions or {NO_STATE}",
        3,
    )


# -- the server's own start-up: ports in use, Ctrl-C, the server's log noise ------------------

SERVE = [sys.executable, "-m", "mockbank.cli", "serve", "--quiet"]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port some other program is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SERVE, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_port_in_use_is_one_line_naming_port_flag_and_fix(taken_port: int, server: str) -> None:
    done = _run("--server", server, "--port", str(taken_port), "--proxy-port", "0")
    assert done.returncode == 3
    assert done.stderr == (
        f"mockbank: port {taken_port} (--port, every provider) is in use; "
        "pick another or --port 0\n"
    )


def test_proxy_port_in_use_is_one_line_naming_the_forter_proxy(taken_port: int) -> None:
    done = _run("--port", "0", "--proxy-port", str(taken_port))
    assert done.returncode == 3
    assert done.stderr == (
        f"mockbank: port {taken_port} (--proxy-port, the Forter proxy) is in use; "
        "pick another or --proxy-port 0\n"
    )


def test_a_second_serve_on_the_same_port_is_refused_not_shared() -> None:
    """granian binds with SO_REUSEPORT: a second server must still see the port as taken."""
    port = free_port()
    first = subprocess.Popen(
        [*SERVE, "--port", str(port), "--proxy-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_health(f"http://127.0.0.1:{port}", first, timeout=90)
        done = _run("--port", str(port), "--proxy-port", "0")
        assert done.returncode == 3
        assert f"port {port} (--port, every provider) is in use" in done.stderr
    finally:
        first.terminate()
        first.communicate(timeout=15)


def _interrupted_start(delay: float) -> tuple[int, str]:
    """Launch `mockbank serve`, send Ctrl-C `delay` seconds into its start: (exit code,
    stderr). The interpreter's own start-up is not mockbank's: the delay counts from the
    moment mockbank's command module is loaded."""
    code = (
        "import sys, mockbank.cli; print('loaded', flush=True); "
        f"sys.exit(mockbank.cli.main({['serve', '--quiet', '--port', '0', '--proxy-port', '0']!r}))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "loaded\n"
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    return process.returncode, stderr


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.5])
def test_ctrl_c_during_start_up_prints_no_traceback(delay: float) -> None:
    returncode, stderr = _interrupted_start(delay)
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    assert returncode in (0, 130)


@pytest.mark.slow
def test_ctrl_c_at_every_moment_of_start_up_stops_cleanly() -> None:
    # Every 5 ms of the start: importing, building the app, binding, starting the proxy's
    # listener thread (where a Ctrl-C once left a thread half started and a traceback).
    found = []
    for step in range(30):
        returncode, stderr = _interrupted_start(step * 0.005)
        if "Traceback" in stderr or returncode not in (0, 130):
            found.append(f"{step * 5} ms: exit {returncode}: {stderr[-300:]}")
    assert found == []


def test_a_proxy_stopped_as_soon_as_it_is_started_stops_cleanly(tmp_path: Path) -> None:
    from mockbank import create_app
    from mockbank.providers.forter.proxy import ForterProxy

    app = create_app({"state_path": str(tmp_path)})
    errors: list[BaseException | None] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)
    try:
        for _ in range(40):  # the listener thread may not have run a line yet when stop comes
            proxy = ForterProxy(app, "127.0.0.1", 0)
            proxy.start()
            proxy.stop()
        ForterProxy(app, "127.0.0.1", 0).stop()  # never started
    finally:
        threading.excepthook = previous
        app.extensions["mockbank"].close()
    assert errors == []


@pytest.mark.slow
def test_waitress_queue_warnings_are_not_shown_at_the_default_level() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            *SERVE,
            "--server",
            "waitress",
            "--threads",
            "1",
            "--port",
            str(port),
            "--proxy-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, process, timeout=90)
        fault = {"provider": "quickstream", "latency_ms": 100, "count": 20}
        assert requests.post(url + "/_mockbank/faults", json=fault, timeout=5).ok
        # Twenty requests at once on one worker thread: waitress queues nineteen of them.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(20) as pool:
            statuses = list(
                pool.map(
                    lambda _: requests.get(url + "/quickstream/", timeout=30).status_code,
                    range(20),
                )
            )
        assert len(statuses) == 20
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=15)
    assert "Task queue depth" not in output
    assert "Traceback" not in output
