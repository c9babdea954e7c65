#!/usr/bin/env bash
# Set up, lint, and run the test suite. Arguments are passed to pytest.
#
# BROWSER_TESTS=0 skips installing what the browser tests need (Debian's chromium
# and the playwright package); the tests that need them then skip.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

log() { printf '[test] %s\n' "$*" >&2; }

# --- browser-test prerequisites -----------------------------------------------
export BROWSER_TESTS="${BROWSER_TESTS:-1}"
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ "$BROWSER_TESTS" != "0" && ! -x "$CHROMIUM_PATH" ]]; then
    if [[ "$CHROMIUM_PATH" == /usr/bin/chromium ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing Debian's chromium for the browser tests"
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } </dev/null >/tmp/reassurance-apt.log 2>&1; then
            tail -n 20 /tmp/reassurance-apt.log >&2 || true
            log "WARNING: could not install chromium (see /tmp/reassurance-apt.log): browser tests will skip"
            export BROWSER_TESTS=0
        fi
    else
        log "WARNING: $CHROMIUM_PATH is missing and apt-get is not available: browser tests will skip"
        export BROWSER_TESTS=0
    fi
fi

# --- the virtualenv (with playwright when the browser tests run) --------------
# Never run `playwright install`: it downloads browsers, which cannot work here;
# the tests use $CHROMIUM_PATH instead.
if [[ "$BROWSER_TESTS" != "0" ]]; then
    SETUP_EXTRAS=test,browser bash scripts/setup.sh
else
    bash scripts/setup.sh
fi
PY="$REPO_ROOT/.venv/bin/python"

# --- lint -------------------------------------------------------------------------
# A lint failure fails the run, but the tests still run so that both are reported.
lint_rc=0
lint_dirs=()
for d in sim tests benchmarks app.py; do
    if [[ -e "$d" ]]; then
        lint_dirs+=("$d")
    fi
done
if ((${#lint_dirs[@]})); then
    log "ruff check ${lint_dirs[*]}"
    "$PY" -m ruff check "${lint_dirs[@]}" || lint_rc=$?
fi

# --- tests ------------------------------------------------------------------------
log "pytest (BROWSER_TESTS=$BROWSER_TESTS, CHROMIUM_PATH=$CHROMIUM_PATH)"
rc=0
"$PY" -m pytest -q "$@" </dev/null || rc=$?
if [[ "$rc" == 5 ]]; then
    log "ERROR: pytest collected no tests (exit code 5): counting that as a failure"
    exit 1
fi
if [[ "$rc" == 0 && "$lint_rc" != 0 ]]; then
    log "ERROR: tests passed but ruff check failed (exit code $lint_rc)"
    exit 1
fi
exit "$rc"
