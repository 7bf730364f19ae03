"""Write notebooks/i2i_2d.ipynb and i2i_3d.ipynb from one list of cells, ndim a value.

Run ``python notebooks/build_notebooks.py`` after changing a cell; the notebooks are
committed without outputs. Defaults of the parameters cell come from
:func:`i2i_nb.demo.demo_config`, so that they run as they are on the demo data.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from string import Template

import nbformat

from i2i_nb.config import INPUT_NORMALIZATIONS
from i2i_nb.demo import demo_config
from i2i_nb.notebook.environment import BRANCH, REPOSITORY, colab_url
from i2i_nb.notebook.form import CHOICES

FOLDER = Path(__file__).resolve().parent
KINDS = {2: "2D images", 3: "3D stacks (z, y, x)"}

TITLE = """\
# Paired image-to-image restoration of $kind

[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]($colab)

**What it does.** This notebook trains a network that maps each input image (for example a
noisy, short-exposure acquisition) to its target (the same field, long exposure), from pairs
of $kind. It then predicts the test images, scores them against their targets beside the
*identity baseline* (the input itself), and writes BiaPy's results tree: configuration,
checkpoints, per-image predictions, metrics and charts. It re-implements BiaPy's
*image to image* workflow (`i2i_nb`); the YAML it saves uses BiaPy's keys.

**How to use it.** Run the cells from top to bottom. As it is, it trains on built-in demo data
in a few minutes on a CPU. For your own data, change the parameters in section 2 (and, if you
like, the form in section 4). On Colab choose *Runtime > Change runtime type > GPU*.

Sections: 1. Set-up, 2. Parameters, 3. Data, 4. Parameter form, 5. Training,
6. Quality control, 7. Results and download, 8. Predict your own images.
"""

SETUP = """\
## 1. Set-up

Installs `i2i_nb` when the kernel does not have it (Colab), keeping the installed PyTorch,
and says which versions and which GPU the kernel uses.
"""

INSTALL = """\
import sys

python, source = sys.executable, "git+$repo@$ref"
!"{python}" -m pip show -q i2i-nb || "{python}" -m pip install -q --no-deps "{source}"
"""

ENVIRONMENT = """\
from i2i_nb.notebook.environment import setup_environment

environment = setup_environment("$repo", "$ref")
"""

IMPORTS = """\
from i2i_nb.notebook import data_step, form, predict_step, results, settings, training
"""

PARAMETERS_TEXT = """\
## 2. Parameters

Everything a run needs. This cell is tagged `parameters`, so papermill can set them:
`papermill $notebook out.ipynb -p epochs 5`.
"""

PARAMETERS = """\
# Data: "demo" (built-in pairs, written to data_dir), "folder" (data_dir holds train/ and
# test/, e.g. on a mounted Google Drive) or "zip" (an archive uploaded in section 3)
data_source = "demo"
data_dir = "i2i_data_${ndim}d"
train_x = ""  # training inputs; empty: <data_dir>/train/x
train_y = ""  # training targets; empty: <data_dir>/train/y
test_x = ""  # test inputs; empty: <data_dir>/test/x
test_y = ""  # test targets; empty: <data_dir>/test/y

# Network and training
patch_size = $patch_size  # $patch_axes
$architectures
architecture = "$architecture"
epochs = $epochs
batch_size = $batch_size
learning_rate = $learning_rate
# input normalization: $normalizations
normalization = "$normalization"

# Prediction
tile_overlap = 0.0  # per axis: a fraction of a tile below 1, else pixels; 0: automatic

# Results: <result_dir>/<name>/ (BiaPy's layout)
result_dir = "i2i_results"
name = "i2i_${ndim}d"
run_id = 1
device = ""  # "" (a GPU when there is one), "cpu", "cuda:0"...
resume = False  # continue training this run from its last checkpoint

# Predict your own images (section 8)
predict_images = ""  # a folder of TIFF/HDF5/.zarr images or one (e.g. on Drive); empty: test inputs
predict_checkpoint = ""  # a .pth file (e.g. on Drive); empty: this run's best checkpoint
test_time_augmentation = False  # mean over flips and rotations (8 in 2D, 16 in 3D)
"""

DATA_TEXT = """\
## 3. Data

Pairs are matched by sorted file name in each folder ($kind, channels last or as stored
by ImageJ or OME-Zarr). Images are TIFF files, `.zarr` folders (OME-Zarr or plain Zarr) or
HDF5 files, left on disk and read as needed:

```
data_dir/
  train/x/*.tif   inputs         train/y/*.tif   targets     (or *.zarr, *.h5)
  test/x/*.tif    test inputs    test/y/*.tif    test targets
```

With `data_source = "zip"`, upload a zip of that tree here first (uploads in the browser are
limited in size: for large data mount Google Drive and use `"folder"`).
"""

UPLOAD = """\
upload = data_step.upload_widget()
upload
"""

PREPARE = """\
data_root = data_step.prepare_data(data_source, data_dir, $ndim, data_step.uploaded_zip(upload))
cfg = settings.notebook_config($ndim, data_root, train_x, train_y, test_x, test_y, patch_size,
                               architecture, epochs, batch_size, learning_rate, normalization,
                               tile_overlap)
"""

CHECK_TEXT = """\
Every image is read and checked: pairing, shapes, channels, value ranges. Fix any problem
listed before training.
"""

CHECK = "data_step.check_table(cfg)\n"

SHOW_PAIRS = "data_step.show_pairs(cfg, n=3)\n"

FORM_TEXT = """\
## 4. Parameter form

More settings, filled in from section 2. Change them, then run the next cell, which reads the
form back (an invalid value is named in the form and the last valid settings are kept).
"Save YAML" writes a BiaPy-style configuration file.
"""

FORM = """\
parameter_form = form.ParameterForm(cfg, yaml_path=f"{result_dir}/{name}.yaml")
parameter_form.widget
"""

READ_FORM = "cfg = parameter_form.config()\n"

TRAINING_TEXT = """\
## 5. Training

The chart is redrawn after every epoch. To stop early, click *Stop after this epoch* (shown
in JupyterLab, Jupyter Notebook and Colab; not in headless papermill runs) or interrupt the
kernel: training ends after the current epoch and the best checkpoint is tested.
`resume = True` continues a run from its last checkpoint.
"""

TRAIN = """\
result = await training.train(cfg, result_dir, name, run_id, device, resume)
"""

TB_TEXT = """\
What the network learned: input | prediction | target of the first validation patches after
the last epoch, as TensorBoard shows them for every epoch.
"""

TB_IMAGES = "results.show_training_images(result)\n"

QC_TEXT = """\
## 6. Quality control

PSNR, scale-invariant PSNR, Pearson's r, SSIM and MAE of each test prediction against its
target (`TEST.METRICS`), beside two trivial baselines: the input itself (or, when the
channel counts differ, its channel that best predicts the target after an affine fit) and
a constant image at the training targets' mean. The network helps only where it beats
both; a warning above the table says when it does not, on the validation patches after
training and on the test images.
"""

METRICS = "results.metrics_table(result)\n"

PREDICTIONS = "results.show_predictions(result, cfg, n=2)\n"

RESULTS_TEXT = """\
## 7. Results and download

Predictions are in `per_image/`, in the targets' units; `test_metrics.csv` holds the metrics.
The last cell zips the results folder (and downloads it on Colab).
"""

TREE = "print(results.results_tree(result))\n"

DOWNLOAD = "archive = results.download_results(result)\n"

OWN_TEXT = """\
## 8. Predict your own images

New acquisitions, without targets: set `predict_images` to a folder of images (TIFF, HDF5 or
`.zarr` folders) or to one of them, and `predict_checkpoint` to a checkpoint (any `.pth`
this tool wrote, e.g. from Drive, is enough on its own), or upload TIFF or HDF5 files, a zip
of them (or of `.zarr` folders) and/or a `.pth` with the button below.
When empty and nothing is uploaded: this session's test inputs and best checkpoint.
Predictions go to `<result_dir>/<name>_predictions/` and are zipped for download. Volumes
too large for memory are predicted from disk to disk; a Zarr or HDF5 input gives an
OME-Zarr prediction, and every prediction keeps the input's pixel size.
"""

OWN_UPLOAD = """\
own_upload = predict_step.upload_widget()
own_upload
"""

OWN = """\
own = predict_step.predict_own(predict_images, predict_checkpoint, result, cfg, result_dir, name,
                               run_id, device, test_time_augmentation, own_upload.value)
"""

OWN_SHOW = "predict_step.show_own(own, cfg, n=3)\n"

OWN_DOWNLOAD = "own_archive = results.download_results(own)\n"

EXPORT_TEXT = """\
## 9. Export to the BioImage Model Zoo

A bioimage.io package of this session's best model (a zip in the run's `BMZ_files/`) that
Fiji/deepImageJ, ilastik, napari, QuPath and BiaPy open: its input normalisation and the
mapping back to the targets' units are in the package, and the output's halo tells those
tools how far tiles must overlap. bioimageio.core tests it before it is written. Name,
authors and licence come from `MODEL.BMZ.EXPORT.*` in the YAML, or defaults.
"""

EXPORT = """\
from i2i_nb.notebook import export_step

package = export_step.export_model(result, cfg)
"""

REFERENCES = """\
---
Built on the ideas of [BiaPy](https://biapy.readthedocs.io) (workflow, configuration and
results layout), [ZeroCostDL4Mic](https://github.com/HenriquesLab/ZeroCostDL4Mic) (notebook
structure) and CARE (content-aware restoration).
"""

CELLS: list[tuple[str, str]] = [
    ("markdown", TITLE), ("markdown", SETUP), ("code", INSTALL), ("code", ENVIRONMENT),
    ("code", IMPORTS), ("markdown", PARAMETERS_TEXT), ("parameters", PARAMETERS),
    ("markdown", DATA_TEXT), ("code", UPLOAD), ("code", PREPARE), ("markdown", CHECK_TEXT),
    ("code", CHECK), ("code", SHOW_PAIRS), ("markdown", FORM_TEXT), ("code", FORM),
    ("code", READ_FORM), ("markdown", TRAINING_TEXT), ("code", TRAIN), ("markdown", TB_TEXT),
    ("code", TB_IMAGES), ("markdown", QC_TEXT),
    ("code", METRICS), ("code", PREDICTIONS), ("markdown", RESULTS_TEXT), ("code", TREE),
    ("code", DOWNLOAD), ("markdown", OWN_TEXT), ("code", OWN_UPLOAD), ("code", OWN),
    ("code", OWN_SHOW), ("code", OWN_DOWNLOAD), ("markdown", EXPORT_TEXT), ("code", EXPORT),
    ("markdown", REFERENCES),
]


def notebook_name(ndim: int) -> str:
    """``i2i_2d.ipynb`` or ``i2i_3d.ipynb``."""
    return f"i2i_{ndim}d.ipynb"


def values(ndim: int) -> dict[str, object]:
    """What the cell templates are filled with for ``ndim``."""
    cfg = demo_config("data", ndim)
    return {
        "ndim": ndim, "kind": KINDS[ndim], "repo": REPOSITORY, "ref": BRANCH,
        "notebook": f"notebooks/{notebook_name(ndim)}",
        "colab": colab_url(f"notebooks/{notebook_name(ndim)}"),
        "patch_size": tuple(cfg.patch_shape), "patch_axes": "(z, y, x)" if ndim == 3 else "(y, x)",
        "architecture": cfg.model.architecture, "architectures": textwrap.fill(
            f"architecture: {', '.join(CHOICES['MODEL.ARCHITECTURE'])}", 96, initial_indent="# ",
            subsequent_indent="#   "),
        "epochs": cfg.train.epochs, "batch_size": cfg.train.batch_size,
        "learning_rate": cfg.train.lr, "normalization": cfg.data.normalization.type,
        "normalizations": ", ".join(INPUT_NORMALIZATIONS),
    }


def build(ndim: int) -> nbformat.NotebookNode:
    """The notebook for ``ndim`` (2 or 3), without outputs, with stable cell ids."""
    fill = values(ndim)
    cells = []
    for i, (kind, template) in enumerate(CELLS):
        source = Template(template).substitute(fill).rstrip("\n")
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source)
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
        cell.id = f"cell-{i:02d}"
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
        "colab": {"provenance": [], "gpuType": "T4"},
    })


def main() -> None:
    """Write both notebooks beside this script."""
    for ndim in KINDS:
        path = FOLDER / notebook_name(ndim)
        nbformat.write(build(ndim), path)
        print(path)


if __name__ == "__main__":
    main()
