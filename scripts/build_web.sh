#!/usr/bin/env bash
# Build cielo's web application (cielo/web/frontend, Vite + React + TypeScript) into
# cielo/web/static, which ships inside the Python package, and stamp the build with the
# hash of its source (tests/web fails when the committed build lags behind its source).
# Needs Node.js >= 20.19 and npm; `pip install cielo[server]` does not.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

(cd cielo/web/frontend && npm ci --no-audit --no-fund && npm run build)
"${PYTHON:-python3}" cielo/web/_build.py  # standard library only: no venv needed
