#!/usr/bin/env bash
# Set up a virtual environment and run the station demo (simulated camera, embedded SQLite).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/qcstation demo "$@"
