#!/usr/bin/env bash
# Install everything the tests need, then run lint, type checks and the whole test
# suite. Servers (EPICS IOCs, PostgreSQL, Redis, ...) are started by the test fixtures on
# loopback and stopped by PID when the session ends. Under CI=true a server that cannot
# start fails the tests that need it instead of skipping them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}

need_apt=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)  # the web UI's browser tests (Playwright)
command -v htpasswd >/dev/null 2>&1 || need_apt+=(apache2-utils)  # writes the htpasswd files of the auth tests
[ -x /usr/sbin/slapd ] || need_apt+=(slapd)  # the LDAP authenticator's tests run a real slapd
command -v ldapadd >/dev/null 2>&1 || need_apt+=(ldap-utils)  # ldapadd loads their directory
if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 .venv/bin/pip install -q -e '.[test]'
for pkg in examples/*/; do
    [ -f "$pkg/pyproject.toml" ] && .venv/bin/pip install -q -e "$pkg"
done

lint_dirs=()
for d in cielo tests benchmarks examples; do [ -d "$d" ] && lint_dirs+=("$d"); done
.venv/bin/ruff check "${lint_dirs[@]}"
.venv/bin/ruff format --check "${lint_dirs[@]}"
.venv/bin/mypy
set +e
.venv/bin/python -m pytest --durations=25 "$@"  # the slowest tests, for keeping CI short
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure here" >&2
    exit 1
fi
exit "$rc"
