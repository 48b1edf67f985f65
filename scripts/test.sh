#!/usr/bin/env bash
# Install what the tests need (a virtualenv with mockbank[test], the Node packages of the
# SDK tests) and run ruff, mypy --strict and the whole suite. Extra arguments go to pytest:
# `bash scripts/test.sh -m "not slow"` is the quick loop (every test but those over 3 s).
# Installs are skipped while pyproject.toml and each package-lock.json are unchanged since the
# last one (a stamp beside what was installed), so a repeated run goes straight to the checks.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
stamp=.venv/.mockbank-install-stamp
if ! cmp -s pyproject.toml "$stamp"; then
  .venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 \
    | grep -v "^WARNING: Location" || true
  cp pyproject.toml "$stamp"
fi
for dir in tests/*/node; do
  if [ -f "$dir/package.json" ] && command -v npm >/dev/null; then
    if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.mockbank-install-stamp"; then
      (cd "$dir" && { npm ci --no-audit --no-fund --loglevel=error \
        || npm install --no-audit --no-fund --loglevel=error; } \
        && cp package-lock.json node_modules/.mockbank-install-stamp)
    fi
  fi
done
.venv/bin/ruff check .
.venv/bin/mypy mockbank
exec .venv/bin/pytest -n 2 -rs "$@"
