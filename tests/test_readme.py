"""The README's examples, run as a reader would run them, so the page cannot silently rot.

- Every shell block with a ``curl`` line, in the README and in ``docs/providers/*.md``, runs
  line by line through bash against one live ``mockbank serve`` (the ports 8787/8788 rewritten
  to free ones). Each curl must answer below 400; a comment line right after it states more:
  ``# 302 ...`` the status, and ``# {...}``, ``# 503 {...}`` or ``# token=...`` the body, where
  ``...`` stands for anything. Other commands (``mockbank ca``) must exit 0.
- A ``mockbank serve ...`` line in such a block is the server this test already runs: its flags
  must be among the test server's.
- ``<requestId>`` is filled from the answer of the curl before it, as a reader would.
- Python blocks are marked with an HTML comment just above them: ``<!-- readme-test: run -->``
  runs the block as a script; ``<!-- readme-test: pytest -->`` runs it as a test file with the
  installed plugin; ``<!-- readme-test: skip -->`` says why not in the prose. An unmarked
  Python block fails :func:`test_every_python_block_is_marked`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.processes import free_port, start_serve, wait_for_health

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs" / "providers").glob("*.md"))]
BLOCK = re.compile(
    r"(?:<!-- readme-test: (?P<mark>\w+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)^```", re.S | re.M
)
SERVER_FLAGS = ["--upstream", "api.forter-secure.com=echo"]
STATUS_MARK = "@@readme-test-status="
# How a reader fills a placeholder: from the JSON answer of the curl before it.
PLACEHOLDERS: dict[str, Callable[[Any], str]] = {
    "requestId": lambda answer: str(answer["tokenRequest"]["id"]),
    "singleUseTokenId": lambda answer: str(answer["singleUseTokenId"]),
}


@dataclass
class Block:
    mark: str | None
    lang: str
    body: str
    line: int
    page: str = "README.md"

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


@dataclass
class Command:
    text: str
    where: str
    expect: list[str] = field(default_factory=list)


def readme_blocks(page: Path = README) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    name = page.relative_to(ROOT).as_posix()
    return [
        Block(m["mark"], m["lang"], m["body"], text.count("\n", 0, m.start("body")) + 1, name)
        for m in BLOCK.finditer(text)
    ]


def _complete(command: str) -> bool:
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command, comments=True)
    except ValueError:  # an open quote: the command goes on over the next line
        return False
    return True


def shell_commands(block: Block) -> list[Command]:
    """The block's commands (continuation lines joined), each with the comments after it."""
    commands: list[Command] = []
    pending: list[str] = []
    for number, line in enumerate(block.body.splitlines(), start=block.line):
        if not pending and line.startswith("#"):
            if commands:
                commands[-1].expect.append(line[1:].strip())
            continue
        if not pending and not line.strip():
            continue
        pending.append(line)
        joined = "\n".join(pending)
        if _complete(joined):
            commands.append(Command(joined, f"{block.page}:{number - len(pending) + 1}"))
            pending = []
    assert not pending, f"{block.name}: unfinished command {pending}"
    return commands


def curl_blocks() -> list[Block]:
    return [
        b
        for page in PAGES
        for b in readme_blocks(page)
        if b.lang in ("sh", "bash", "")
        and any(c.text.startswith("curl ") for c in shell_commands(b))
    ]


@dataclass
class Server:
    port: int
    proxy_port: int
    env: dict[str, str] = field(repr=False)

    def localize(self, text: str) -> str:
        """The README's addresses, pointed at this test's server."""
        for host in ("127.0.0.1", "localhost"):
            text = text.replace(f"{host}:8787", f"127.0.0.1:{self.port}")
            text = text.replace(f"{host}:8788", f"127.0.0.1:{self.proxy_port}")
        return text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`mockbank serve` on free ports, its CA (and `mockbank ca`'s) in a private data dir."""
    data = tmp_path_factory.mktemp("readme-data")
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(data),
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    env.pop("MOCKBANK_STATE", None)
    port, proxy_port = free_port(), free_port()
    process = start_serve(
        "--port", str(port), "--proxy-port", str(proxy_port), "--quiet", *SERVER_FLAGS, env=env
    )
    try:
        wait_for_health(f"http://127.0.0.1:{port}", process)
        yield Server(port, proxy_port, env)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)


def expected_body(pattern: str) -> re.Pattern[str]:
    """A README output comment as a regular expression, ``...`` standing for anything."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("...")), re.S)


def run_curl(command: Command, server: Server, previous: Any) -> tuple[int, str]:
    text = server.localize(command.text)
    for name in re.findall(r"<(\w+)>", text):
        assert name in PLACEHOLDERS, f"{command.where}: teach this test to fill <{name}>"
        text = text.replace(f"<{name}>", PLACEHOLDERS[name](previous))
    assert not re.search(r":878[78]\b", text), f"{command.where}: a fixed port left"
    # Wrap curl so the status comes after the body, whatever options the README gives.
    script = f"curl() {{ command curl -w '\\n{STATUS_MARK}%{{http_code}}' \"$@\"; }}\n{text}\n"
    done = subprocess.run(
        ["bash", "-c", script],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, f"{command.where}: curl failed\n{done.stderr}"
    body, _, status = done.stdout.rpartition(f"\n{STATUS_MARK}")
    return int(status.strip()), body.strip()


@pytest.mark.parametrize("block", curl_blocks(), ids=lambda b: b.name)
def test_curl_examples(block: Block, server: Server) -> None:
    previous: Any = None
    for command in shell_commands(block):
        if command.text.startswith("mockbank serve"):
            flags = shlex.split(command.text)[2:]
            assert all(flag in SERVER_FLAGS for flag in flags), (
                f"{command.where}: add {flags} to SERVER_FLAGS"
            )
            continue
        if not command.text.startswith("curl "):
            done = subprocess.run(
                ["bash", "-c", command.text], env=server.env, capture_output=True, timeout=30
            )
            assert done.returncode == 0, f"{command.where}: {command.text}\n{done.stderr!r}"
            continue
        status, body = run_curl(command, server, previous)
        where = f"{command.where}: {command.text}\n-> {status} {body[:500]}"
        said = command.expect[0] if command.expect else ""
        stated = re.match(r"(\d{3})\b\s*(.*)", said)
        if stated:
            assert status == int(stated[1]), where
            said = stated[2]
        else:
            assert status < 400, where
        if said.startswith(("{", "token=")):
            assert expected_body(server.localize(said)).fullmatch(body), where
        try:
            previous = json.loads(body)
        except ValueError:
            previous = body


def python_blocks(mark: str) -> list[Block]:
    return [b for b in readme_blocks() if b.lang == "python" and b.mark == mark]


@pytest.mark.parametrize("block", python_blocks("run"), ids=lambda b: b.name)
def test_python_examples(block: Block, server: Server, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(server.localize(block.body), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        env=server.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"{block.name} failed:\n{done.stdout}\n{done.stderr}"


@pytest.mark.slow
def test_pytest_plugin_examples(pytester: pytest.Pytester) -> None:
    blocks = python_blocks("pytest")
    assert len(blocks) >= 2, "the README shows the plugin in both modes"
    tests = 0
    for number, block in enumerate(blocks, start=1):
        pytester.makepyfile(**{f"test_readme_{number}": block.body})
        tests += len(re.findall(r"^def test_", block.body, re.M))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=tests)


def test_every_python_block_is_marked() -> None:
    unmarked = [
        b.name
        for b in readme_blocks()
        if b.lang == "python" and b.mark not in ("run", "pytest", "skip")
    ]
    assert unmarked == []


def test_the_extractor_finds_the_examples() -> None:
    """A guard against a parser change that silently finds nothing to run."""
    curls = [c for b in curl_blocks() for c in shell_commands(b) if c.text.startswith("curl ")]
    assert len(curls) >= 12
    assert len(python_blocks("run")) >= 2
    assert any("<requestId>" in c.text for c in curls)
