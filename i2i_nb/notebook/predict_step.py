"""Predict your own images with a trained model: no targets needed, no metrics."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import ipywidgets
import numpy as np

from i2i_nb.config import Config, config_from_dict, load_config
from i2i_nb.data.io import IMAGE_SUFFIXES, read_image
from i2i_nb.data.pairs import display_name, is_single_image, list_images
from i2i_nb.errors import DataError
from i2i_nb.experiment import RunResult, resolve_device, run
from i2i_nb.inference import output_name
from i2i_nb.notebook.data_step import uploaded_files
from i2i_nb.notebook.figures import Column, Rows, show
from i2i_nb.notebook.safe_zip import extract_zip

COLUMNS = [Column("input"), Column("prediction")]
CONFIG_NAME = "predict.yaml"


def upload_widget() -> ipywidgets.FileUpload:
    """A button to upload images (TIFF or HDF5 files, or a zip of them or of ``.zarr``
    folders) and/or a checkpoint (``.pth`` or ``.safetensors``)."""
    return ipywidgets.FileUpload(accept=".tif,.tiff,.h5,.hdf5,.zip,.pth,.safetensors",
                                 multiple=True, description="Upload")


def receive_uploads(widget_value: Any, folder: str | Path) -> tuple[str, str]:
    """Save the files of a ``FileUpload.value`` under ``folder`` (this tool's own folder,
    replaced at each call): TIFFs and the contents of zips (extracted safely) into
    ``folder/images``, a checkpoint as ``folder/<its name>``.

    Returns the images folder and the checkpoint path, each ``""`` when none was uploaded.
    """
    folder = Path(folder)
    files = uploaded_files(widget_value)
    if not files:
        return "", ""
    shutil.rmtree(folder, ignore_errors=True)
    images, checkpoint = folder / "images", ""
    images.mkdir(parents=True)
    for name, content in files:
        base = Path(name).name
        suffix = Path(base).suffix.lower()
        if suffix == ".zip":
            extract_zip(content, images)
        elif suffix in IMAGE_SUFFIXES:
            (images / base).write_bytes(content)
        elif suffix in (".pth", ".safetensors"):
            checkpoint = str(folder / base)
            Path(checkpoint).write_bytes(content)
        else:
            raise DataError(f"{name}: upload TIFF or HDF5 images, a zip of them (or of .zarr "
                            "folders), or a .pth or .safetensors checkpoint")
    found = any(p.is_file() for p in images.rglob("*"))
    print(f"uploaded: {'images in ' + str(images) if found else 'no images'}; "
          f"{'checkpoint ' + checkpoint if checkpoint else 'no checkpoint'}")
    return (str(images) if found else ""), checkpoint


def predict_own(images: str, checkpoint: str, trained: RunResult, cfg: Config, result_dir: str,
                name: str, run_id: int, device: str, tta: bool = False,
                uploaded: Any = None) -> RunResult:
    """Predict every image in ``images`` (a folder of TIFF/HDF5 files and ``.zarr`` stores,
    one image, or a ``.zarr`` store of several) with ``checkpoint`` into
    ``<result_dir>/<name>_predictions``; the checkpoint alone defines the model.

    Empty ``images`` or ``checkpoint``: what was uploaded (``uploaded``, a
    ``FileUpload.value``, saved by :func:`receive_uploads`), else this run's test inputs
    and best checkpoint.
    """
    sent_images, sent_checkpoint = receive_uploads(uploaded, Path(result_dir) /
                                                   f"{name}_uploads")
    images = images or sent_images
    checkpoint = checkpoint or sent_checkpoint or str(trained.paths.checkpoint("best"))
    own = config_from_dict({
        "PROBLEM": {"NDIM": cfg.problem.ndim}, "TRAIN": {"ENABLE": False},
        "MODEL": {"LOAD_CHECKPOINT": True}, "PATHS": {"CHECKPOINT_FILE": checkpoint},
        "DATA": {"PATCH_SIZE": list(cfg.data.patch_size),
                 "TEST": {"PATH": images or cfg.data.test.path, "LOAD_GT": False}},
        "TEST": {"AUGMENTATION": tta},
    })
    predicted = run(own, result_dir, f"{name}_predictions", run_id,
                    resolve_device(device or None), CONFIG_NAME)
    written = sorted(predicted.paths.sub("per_image").rglob("*.tif*"))
    print(f"{len(written)} prediction(s) of {images or cfg.data.test.path} with {checkpoint} "
          f"written to {predicted.paths.sub('per_image').absolute()}")
    return predicted


def show_own(result: RunResult, cfg: Config, n: int = 3,
             interactive: bool | None = None) -> None:
    """Display input | prediction for the first ``n`` images the run predicted (channel 0)."""
    folder = Path(load_config(result.paths.root / "config_files" / CONFIG_NAME).data.test.path)
    inputs = [folder] if is_single_image(folder) else list_images(folder)
    rows: Rows = [(display_name(path), [
        read_image(path, cfg.ndim, memmap=True),
        _FloatView(read_image(result.paths.sub("per_image") / output_name(path, "auto"),
                              cfg.ndim, memmap=True))]) for path in inputs[:n]]
    show(rows, COLUMNS, interactive)


class _FloatView:
    """An image left on disk whose slices are float32 (for the figures)."""

    def __init__(self, image: np.ndarray) -> None:
        self.image, self.shape, self.ndim = image, image.shape, image.ndim

    def __getitem__(self, key: object) -> np.ndarray:
        return np.asarray(self.image[key], dtype=np.float32)
