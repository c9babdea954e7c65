#!/usr/bin/env bash
# Set up, lint, and run the test suite. Other arguments are passed to pytest.
#
# Usage:  bash scripts/test.sh           the full suite (what CI runs)
#         bash scripts/test.sh --fast    the everyday tier: leaves out the tests marked slow or browser
#                                        (under a minute on a quiet 2-core machine)
#
# BROWSER_TESTS=0 skips installing what the browser tests need (Debian's chromium
# and the playwright package); the tests that need them then skip.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

log() { printf '[test] %s\n' "$*" >&2; }

fast=0
args=()
for a in "$@"; do
    if [[ "$a" == "--fast" ]]; then fast=1; else args+=("$a"); fi
done

# --- browser-test prerequisites -----------------------------------------------
if [[ "$fast" == 1 ]]; then
    export BROWSER_TESTS="${BROWSER_TESTS:-0}"  # the fast tier runs no browser tests: no chromium needed
fi
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
for d in sim tests benchmarks app.py app_controls.py app_results.py; do
    if [[ -e "$d" ]]; then
        lint_dirs+=("$d")
    fi
done
if ((${#lint_dirs[@]})); then
    log "ruff check ${lint_dirs[*]}"
    "$PY" -m ruff check "${lint_dirs[@]}" || lint_rc=$?
fi

# --- tests ------------------------------------------------------------------------
tier=()
if [[ "$fast" == 1 ]]; then
    tier=(-m "not slow and not browser")
    log "pytest, fast tier: tests marked slow or browser are left out (the full suite: bash scripts/test.sh)"
else
    log "pytest, full suite (BROWSER_TESTS=$BROWSER_TESTS, CHROMIUM_PATH=$CHROMIUM_PATH)"
fi
rc=0
# One line per test file with its progress; the slowest tests are listed at the end.
"$PY" -m pytest "${tier[@]}" --durations=5 "${args[@]}" </dev/null || rc=$?
if [[ "$rc" == 5 ]]; then
    log "ERROR: pytest collected no tests (exit code 5): counting that as a failure"
    exit 1
fi
if [[ "$rc" == 0 && "$lint_rc" != 0 ]]; then
    log "ERROR: tests passed but ruff check failed (exit code $lint_rc)"
    exit 1
fi
exit "$rc"
