"""SQLite state at rest: owner-only files in an owner-only directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mockbank import create_app
from mockbank.store import SQLiteStore


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_state_directory_is_0700_and_its_sqlite_files_0600(tmp_path: Path) -> None:
    state_dir = tmp_path / "team" / "state"
    old_umask = os.umask(0o022)  # the usual umask would otherwise leave 0755 and 0644
    try:
        app = create_app({"state_path": state_dir})
    finally:
        os.umask(old_umask)
    client = app.test_client()
    assert client.post("/_mockbank/clock", json={"advance": 5}).status_code == 200
    files = sorted(p.name for p in state_dir.iterdir())
    assert "mockbank.sqlite3" in files
    assert "mockbank.sqlite3-wal" in files  # written to, so the WAL companions exist
    assert _mode(state_dir) == 0o700
    for name in files:
        if name.startswith("mockbank.sqlite3"):
            assert _mode(state_dir / name) == 0o600, name
    app.extensions["mockbank"].close()


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    SQLiteStore(path).close()
    os.chmod(path, 0o644)
    store = SQLiteStore(path)
    assert _mode(path) == 0o600
    store.close()
