#!/usr/bin/env bash
# Creates .venv from the lock file (uv.lock). Needs python3 >= 3.11 and access to PyPI.
# Used by `make plan`, `make test` and CI, so a fresh clone needs nothing installed by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never  # use this machine's Python, never fetch one
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
elif python3 -m uv --version >/dev/null 2>&1; then
  UV=(python3 -m uv)
else
  echo "setup: installing uv (the lock-file installer) into .tools/" >&2
  python3 -m venv .tools
  .tools/bin/pip install --quiet --disable-pip-version-check 'uv>=0.8,<1'
  UV=(.tools/bin/uv)
fi
# compiled bytecode: without it every process recompiles pulumi_cloudflare (+2.5 s, +200 MB)
"${UV[@]}" sync --frozen --quiet --compile-bytecode --python "${PYTHON:-python3}"
