#!/usr/bin/env bash
# Install, then run the 2D notebook headless (papermill) on the built-in demo data.
# Leaves output/i2i_2d.ipynb (executed), output/i2i_data_2d/ and output/i2i_results/i2i_2d/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
mkdir -p output
.venv/bin/papermill notebooks/i2i_2d.ipynb output/i2i_2d.ipynb --cwd output "$@"
