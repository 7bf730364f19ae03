#!/usr/bin/env bash
# Install (scripts/install.sh), then lint, run the test suite, run both notebooks as
# committed (default parameters) under nbval, and drive them in JupyterLab in headless
# Chromium (needs Debian's chromium: apt-get install chromium; .ci/run installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
. .venv/bin/activate
ruff check .
python -m pytest -q
python -m pytest -q -p no:cacheprovider --nbval-lax notebooks/i2i_2d.ipynb notebooks/i2i_3d.ipynb
# The notebooks as a person meets them: JupyterLab on 127.0.0.1 in headless Chromium
# (screenshots of each section in output/ci-screenshots/).
python -m pytest -q -p no:cacheprovider -m browser tests/browser
# The widget tests again with ipywidgets 7.7 (Colab's), laid over the venv's ipywidgets 8.
widgets7=$(mktemp -d)
python -m pip install -q --no-deps --target "$widgets7" "ipywidgets==7.7.5" \
    "widgetsnbextension==3.6.*" "jupyterlab_widgets<3" ipython_genutils
PYTHONPATH="$widgets7" python -c "import ipywidgets; assert ipywidgets.__version__.startswith('7.')"
PYTHONPATH="$widgets7" python -m pytest -q -p no:cacheprovider tests/notebook/test_form.py \
    tests/notebook/test_upload.py tests/notebook/test_data_step.py
