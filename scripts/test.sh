#!/usr/bin/env bash
# Set up a virtual environment with the test extras and run the test suite.
# QC_EXTRAS=dev,train also installs torch (pinned) so the ONNX/torch parity test runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
EXTRAS=${QC_EXTRAS:-dev}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]"
.venv/bin/python -m ruff check qcstation tests benchmarks
.venv/bin/python -m pytest "$@"
