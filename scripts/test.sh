#!/usr/bin/env bash
# Install (scripts/install.sh), then lint, run the test suite, and run both notebooks as
# committed (default parameters) under nbval.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
. .venv/bin/activate
ruff check .
python -m pytest -q
python -m pytest -q -p no:cacheprovider --nbval-lax notebooks/i2i_2d.ipynb notebooks/i2i_3d.ipynb
