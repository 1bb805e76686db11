#!/usr/bin/env bash
# Quick start: install cielo into .venv and run a scan on the simulated beamline
# (the bundled `sim` profile), with live output in the terminal and every run
# stored in the SQLite catalog under the user's data directory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[all]'
.venv/bin/cielo run --profile sim 'scan([det], motor, -1, 1, 11)'
