#!/usr/bin/env bash
# Regenerate results/reference/: the outcome tables of every shipped scenario (scenarios/*.toml), each at
# its own number of replications, CSV only, without the per_run table (see results/README.md).
#
# The golden test (tests/test_batch.py) regenerates the same tables and compares them byte for byte with
# the shipped ones, so run this only on purpose (a change of model, data or scenarios), and review the
# diff of results/reference/ before committing it.
#
# Usage:  bash scripts/regenerate_results.sh            extra arguments go to `reassurance batch`
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ -x .venv/bin/reassurance ]] || bash scripts/setup.sh  # set up .venv only if it is missing
export LC_ALL=C  # the order of scenarios/*.toml, hence of the tables' rows, must not depend on the locale
exec .venv/bin/reassurance batch scenarios/*.toml --out results/reference --formats csv --no-runs --quiet "$@"
