"""`mockbank serve` refuses settings it cannot start with: one line a person can act on.

Each case runs the real command and asserts the exact line on stderr (starting
``mockbank: ``, naming the flag or variable and the value, with the fix), the exit code
(2: an invalid value; 3: a resource that cannot be used) and that no traceback is printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mockbank.fixtures import default_dir

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
    from mockbank.providers.quickstream.models import load_fixtures

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
