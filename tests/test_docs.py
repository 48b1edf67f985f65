"""The README and docs/ stand on their own: no references to documents a user does not have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# Internal design notes and source documents the project was built from: a reader has neither.
UNSHIPPED = re.compile(
    r"(?-i:DESIGN\b)|\bseed documents?\b|\bthe seeds?\b"
    r"|\bseeds?'s?\s+(?:\d{3}|page|example|samples?)\b"
    r"|\bseeds/|beyond-the-seeds|\(seed\b|\bseed (?:FAQ|flow)\b|\bseed:",
    re.IGNORECASE,
)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_cite_no_document_a_user_does_not_have(page: Path) -> None:
    found = [
        f"{page.name}:{number}: {line.strip()[:120]}"
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        if UNSHIPPED.search(line)
    ]
    assert found == []


def test_the_quick_start_installs_once_and_says_how_to_start_next_time() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "test -x .venv/bin/mockbank ||" in quick
    assert "next time, `.venv/bin/mockbank serve`" in quick
