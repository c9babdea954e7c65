#!/usr/bin/env bash
# Set up the project: find a Python >= 3.12, create .venv, install the package
# in editable mode with its test extras. Idempotent and quick when nothing changed.
#
# Usage:  bash scripts/setup.sh              set up (or check) .venv
#         bash scripts/setup.sh --find-python  only print the interpreter it would use
#
# Environment:
#   PYTHON=/path/to/python   use this interpreter (must be >= 3.12) instead of searching
#   SETUP_EXTRAS=test,browser  extras to install (default: test); extras installed before are kept
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

MIN_MAJOR=3
MIN_MINOR=12
EXTRAS="${SETUP_EXTRAS:-test}"
VENV="$REPO_ROOT/.venv"

export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '[setup] %s\n' "$*" >&2; }

# Print "VERSION EXECUTABLE" if $1 runs and is >= MIN; fail (silently) otherwise.
# Runs the interpreter itself: pyenv shims exist on PATH even for versions that
# are not selected, and then they fail.
probe_python() {
    "$@" -c "
import sys
if sys.version_info < ($MIN_MAJOR, $MIN_MINOR):
    sys.exit(1)
print('%d.%d.%d' % sys.version_info[:3], sys.executable)
" </dev/null 2>/dev/null
}

find_python() {
    local cand out root ver
    if [[ -n "${PYTHON:-}" ]]; then
        if out="$(probe_python "$PYTHON")"; then
            echo "$out"
            return 0
        fi
        log "PYTHON=$PYTHON is not a working Python >= $MIN_MAJOR.$MIN_MINOR; searching instead"
    fi
    # 1. On PATH.
    for cand in python3.13 python3.12 python3 python; do
        if command -v "$cand" >/dev/null 2>&1 && out="$(probe_python "$cand")"; then
            echo "$out"
            return 0
        fi
    done
    # 2. Through pyenv (on PATH, or in its default place), newest version first.
    root=""
    if command -v pyenv >/dev/null 2>&1; then
        root="$(pyenv root 2>/dev/null || true)"
    fi
    if [[ -z "$root" ]]; then
        root="${PYENV_ROOT:-${HOME:-/nonexistent}/.pyenv}"
    fi
    if [[ -d "$root/versions" ]]; then
        while read -r ver; do
            [[ -n "$ver" ]] || continue
            if out="$(probe_python "$root/versions/$ver/bin/python")"; then
                echo "$out"
                return 0
            fi
        done < <(
            { if command -v pyenv >/dev/null 2>&1; then pyenv versions --bare 2>/dev/null; else ls "$root/versions"; fi; } |
                grep -E '^[0-9]+\.[0-9]+(\.[0-9]+)?$' | sort -t. -k1,1nr -k2,2nr -k3,3nr || true
        )
    fi
    return 1
}

no_python() {
    cat >&2 <<EOF
[setup] ERROR: no Python >= $MIN_MAJOR.$MIN_MINOR found (tried python3.13, python3.12, python3, python on PATH, and pyenv).
[setup] Install Python $MIN_MAJOR.$MIN_MINOR or newer, for example:
[setup]     apt-get install python3.12 python3.12-venv     (Debian/Ubuntu with 3.12 packaged)
[setup]     pyenv install 3.12                              (with pyenv)
[setup] or point PYTHON at one: PYTHON=/path/to/python3.12 bash scripts/setup.sh
EOF
    exit 1
}

if [[ "${1:-}" == "--find-python" ]]; then
    find_python || no_python
    exit 0
fi

# --- the virtualenv -------------------------------------------------------------
venv_ok=0
if [[ -x "$VENV/bin/python" ]] && probe_python "$VENV/bin/python" >/dev/null; then
    venv_ok=1
fi

if [[ "$venv_ok" == 0 ]]; then
    found="$(find_python)" || no_python
    py="${found#* }"
    log "using Python ${found%% *} at $py"
    if [[ -e "$VENV" ]]; then
        log "existing .venv is broken or older than $MIN_MAJOR.$MIN_MINOR: recreating it"
        rm -rf "$VENV"
    fi
    log "creating .venv"
    if ! "$py" -m venv "$VENV" </dev/null; then
        rm -rf "$VENV"
        log "ERROR: '$py -m venv' failed. On Debian install the venv module: apt-get install python3-venv (or python3.12-venv)"
        exit 1
    fi
fi

# --- the package and its dependencies --------------------------------------------
# The stamp records what the last successful install was made from. Top-level
# packages are part of it: an editable install made before sim/__init__.py
# existed does not map the package. One install serves every script: extras are
# only ever added (the union of those asked for now and those installed before),
# so run.sh and test.sh never reinstall each other's.
stamp_file="$VENV/.setup-stamp"
source_stamp="$(
    sha256sum pyproject.toml
    "$VENV/bin/python" -c 'import sys; print(sys.version)'
    ls -d -- */__init__.py 2>/dev/null || true
)"
installed_extras=""
if [[ -f "$stamp_file" ]] && [[ "$(sed '$d' "$stamp_file")" == "$source_stamp" ]]; then
    installed_extras="$(tail -n 1 "$stamp_file" | sed -n 's/^extras=//p')"
fi
extras_union() { tr ', ' '\n\n' <<<"$1,$2" | sed '/^$/d' | sort -u | paste -sd, -; }
wanted="$(extras_union "$EXTRAS" "")"
all="$(extras_union "$EXTRAS" "$installed_extras")"

if [[ -n "$installed_extras" && "$all" == "$(extras_union "$installed_extras" "")" ]]; then
    log ".venv is up to date ($("$VENV/bin/python" --version 2>&1), extras: $installed_extras; asked for: $wanted)"
    exit 0
fi

log "installing the project with extras [$all] into .venv (this can take a few minutes the first time)"
rm -f "$stamp_file" "$VENV"/.setup-stamp-*
# -qq: only errors (pip's warnings about this machine's extra package indexes are noise).
if ! "$VENV/bin/python" -m pip install -qq -e ".[$all]" </dev/null; then
    log "ERROR: pip install -e \".[$all]\" failed (see above)"
    exit 1
fi
printf '%s\nextras=%s\n' "$source_stamp" "$all" >"$stamp_file"
log "done: .venv ready ($("$VENV/bin/python" --version 2>&1), extras: $all)"
