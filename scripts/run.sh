#!/usr/bin/env bash
# Set up, then run the main job: the Streamlit app if app.py exists,
# otherwise the baseline scenario. Arguments are passed on.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

if [[ -f app.py ]]; then
    exec .venv/bin/streamlit run app.py "$@"
else
    exec .venv/bin/reassurance run scenarios/baseline.toml "$@"
fi
