#!/usr/bin/env bash
# Set up, then run the main job: the Streamlit app if app.py exists,
# otherwise the baseline scenario. Arguments are passed on.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

if [[ -f app.py ]]; then
    # headless: no first-run e-mail prompt and no browser to open on a server; open the URL it prints
    exec .venv/bin/streamlit run app.py --server.headless true --browser.gatherUsageStats false "$@"
else
    exec .venv/bin/reassurance run scenarios/baseline.toml "$@"
fi
