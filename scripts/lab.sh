#!/usr/bin/env bash
# Install (scripts/install.sh), then open the notebooks in JupyterLab, served to this machine
# only (127.0.0.1); JupyterLab prints the address to open, with its token. Arguments go to
# `jupyter lab` (e.g. --port 8890). Data and results are written beside the notebooks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/jupyter lab --ip=127.0.0.1 --no-browser --ServerApp.root_dir=notebooks "$@"
