"""Files holding secrets (the SQLite state, keys): owner-only, in an owner-only directory."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

# The database and its -wal/-shm companions hold card numbers: owner-only, like an SSH key.
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def private_directory(directory: Path) -> None:
    """Create the state directory owner-only; warn when an existing one is open to others."""
    if not directory.exists():
        directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        os.chmod(directory, DIRECTORY_MODE)  # mkdir's mode is filtered by the umask
        return
    mode = stat.S_IMODE(directory.stat().st_mode)
    if mode & 0o077:
        log.warning(
            "state directory %s is mode %o; other users can list it (chmod 700 %s)",
            directory,
            mode,
            directory,
        )


def private_file(path: Path) -> None:
    """Create `path` (or tighten an existing one) as mode 0600, before anything writes to it."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
