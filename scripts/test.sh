#!/usr/bin/env bash
# Install what the tests need (a virtualenv with mockbank[test], the Node packages of the
# SDK tests) and run ruff, mypy --strict and the whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 \
  | grep -v "^WARNING: Location" || true
for dir in tests/*/node; do
  if [ -f "$dir/package.json" ] && command -v npm >/dev/null; then
    (cd "$dir" && { npm ci --no-audit --no-fund --loglevel=error \
      || npm install --no-audit --no-fund --loglevel=error; })
  fi
done
.venv/bin/ruff check .
.venv/bin/mypy mockbank
exec .venv/bin/pytest -n 2 -rs "$@"
