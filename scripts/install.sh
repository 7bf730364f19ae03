#!/usr/bin/env bash
# Create .venv (if missing) with a CPU build of torch and i2i_nb with its test, notebook and
# lab (JupyterLab) and bmz (BioImage Model Zoo export) extras.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
# torch first: 2.13.0 is the CPU build on this kind of machine; a bare `pip install torch`
# would pull a multi-GB CUDA build. pyproject keeps a range so Colab's own torch is kept.
python -c "import torch" 2>/dev/null || python -m pip install -q torch==2.13.0
python -m pip install -q -e ".[test,notebook,lab,bmz]"
