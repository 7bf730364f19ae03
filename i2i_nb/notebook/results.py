"""Quality control and results: metrics, predictions beside targets, the results folder."""

from __future__ import annotations

import html
import math
import shutil
from pathlib import Path

import numpy as np
from IPython import get_ipython
from IPython.display import HTML, Image, display

from i2i_nb.config import Config
from i2i_nb.data.io import read_image
from i2i_nb.data.pairs import display_name
from i2i_nb.data.sources import split_axes, split_pairs
from i2i_nb.experiment import RunResult
from i2i_nb.inference import output_name
from i2i_nb.notebook.environment import in_colab
from i2i_nb.notebook.figures import Column, Rows, show
from i2i_nb.notebook.tables import html_table
from i2i_nb.tensorboard_images import TAG

METRICS = (("psnr", "PSNR (dB)", ".2f"), ("si_psnr", "SI-PSNR (dB)", ".2f"),
           ("pcc", "Pearson r", ".3f"), ("ssim", "SSIM", ".3f"), ("mae", "MAE", ".4g"),
           ("mse", "MSE", ".4g"), ("nrmse", "NRMSE", ".4f"))
WHO = (("", "prediction"), ("input_", "identity"), ("constant_", "constant"))
PREDICTION_COLUMNS = [Column("input"), Column("prediction"), Column("target"),
                      Column("|prediction - target|", cmap="magma", from_zero=True,
                             colorbar=True)]
SHOWN_PER_FOLDER = 8


def _number(value: float | None, spec: str) -> str:
    return "" if value is None or math.isnan(value) else format(value, spec)


def metrics_table(result: RunResult) -> HTML:
    """Per-image metrics of the predictions beside those of the identity baseline (the
    input, or its best channel after an affine fit) and of the constant baseline (the
    training targets' mean), their mean, and the verdict of the quality checks."""
    if not result.test_rows:
        return HTML("<p>No test results: the run did not test (no test targets, or "
                    "testing was disabled).</p>")
    mean = result.test_mean
    shown = [m for m in METRICS if any(m[0] in row for row in result.test_rows)]
    header = ["image"] + [f"{title} {which}" for _, title, _ in shown for _, which in WHO]
    rows = [[row["file"]] + [_number(row.get(f"{prefix}{key}"), spec) for key, _, spec in shown
                             for prefix, _ in WHO]
            for row in [*result.test_rows, mean]]
    note = (f"<p>Identity: {html.escape(str(mean.get('identity', 'input')))}; constant: the "
            "training targets' mean. Metrics are in the targets' units; SI-PSNR fits the "
            "prediction to the target (affine) first.</p>")
    checks = "".join(f"<p><b>{html.escape(c.message())}</b></p>" if not c.passed
                     else f"<p>{html.escape(c.message())}</p>" for c in result.checks.values())
    return HTML(checks + note + html_table(header, rows, bold_last=True))


def prediction_rows(result: RunResult, cfg: Config, n: int = 2) -> Rows:
    """Input, prediction, target and absolute error of the first ``n`` predicted test images."""
    folder = result.paths.sub("per_image")
    d = cfg.data
    pairs = split_pairs(d.test, d.test.path, d.test.gt_path, cfg, check=False)[0]
    axes_x, axes_y = split_axes(cfg, d.test)
    fmt = "zarr" if cfg.test.by_chunks.enable else cfg.test.output_format.lower()
    rows = []
    for pair in pairs:
        out = folder / output_name(pair.inputs[0], fmt)
        if len(rows) == n or not out.exists():
            continue
        prediction = _float(read_image(out, cfg.ndim, memmap=True))
        target = _float(read_image(pair.target, cfg.ndim, axes_y, memmap=True))
        error = (np.abs(prediction - target) if isinstance(prediction, np.ndarray)
                 and isinstance(target, np.ndarray) else _Float(prediction, target))
        rows.append((display_name(pair.inputs[0]), [
            read_image(pair.inputs[0], cfg.ndim, axes_x, memmap=True), prediction, target,
            error]))
    return rows


def _float(image: np.ndarray) -> np.ndarray:
    """A TIFF's array as float32; a Zarr/HDF5 view left on disk, read as float32 slices."""
    return image.astype(np.float32) if isinstance(image, np.ndarray) else _Float(image)


class _Float:
    """An image left on disk whose slices are float32, or the absolute difference of two:
    figures read only the planes they show."""

    def __init__(self, image: np.ndarray, minus: np.ndarray | None = None) -> None:
        self.image, self.minus, self.shape, self.ndim = image, minus, image.shape, image.ndim

    def __getitem__(self, key: object) -> np.ndarray:
        values = np.asarray(self.image[key], dtype=np.float32)
        return values if self.minus is None else np.abs(values - self.minus[key])


def show_predictions(result: RunResult, cfg: Config, n: int = 2,
                     interactive: bool | None = None) -> None:
    """Display input | prediction | target | error map of ``n`` test images (channel 0;
    volumes: the middle z-slice, or a z-slider when ``interactive``; None: in a live
    front end)."""
    show(prediction_rows(result, cfg, n), PREDICTION_COLUMNS, interactive)


def training_images(result: RunResult) -> list[tuple[int, bytes]]:
    """``(epoch, PNG)`` of the input | prediction | target triplets the run wrote to
    TensorBoard, one per epoch (the same as ``tensorboard --logdir`` shows)."""
    from tensorboard.backend.event_processing.event_accumulator import (
        IMAGES,
        EventAccumulator,
    )

    folder = result.paths.sub("tensorboard")
    if not folder.is_dir():
        return []
    events = EventAccumulator(str(folder), size_guidance={IMAGES: 0}).Reload()
    if TAG not in events.Tags()[IMAGES]:
        return []
    return [(event.step, event.encoded_image_string) for event in events.Images(TAG)]


def show_training_images(result: RunResult) -> None:
    """Display the last epoch's TensorBoard triplets (first validation patches: input |
    prediction | target), and say how to browse every epoch in TensorBoard."""
    images = training_images(result)
    if not images:
        print("No TensorBoard images: the run did not train.")
        return
    epoch, image = images[-1]
    folder = result.paths.sub("tensorboard").absolute()
    display(HTML(f"<p>Epoch {epoch}: input | prediction | target of the first validation "
                 f"patches (channel 0; volumes: the middle z-slice). Every epoch: "
                 f"<code>tensorboard --logdir {html.escape(str(folder))}</code></p>"))
    display(Image(data=image, format="png", width=480))


def _size(path: Path) -> str:
    return _size_text(path.stat().st_size)


def _size_text(size: float) -> str:
    units = ["B", "KB", "MB", "GB"]
    while size >= 1024 and len(units) > 1:
        size, units = size / 1024, units[1:]
    return f"{size:.0f} {units[0]}" if units[0] == "B" else f"{size:.1f} {units[0]}"


def _tree_lines(folder: Path, indent: str) -> list[str]:
    entries = sorted(folder.iterdir(), key=lambda p: (p.is_file(), p.name))
    lines = []
    for entry in entries[:SHOWN_PER_FOLDER]:
        if entry.is_dir() and entry.suffix == ".zarr":  # one image: its total size
            total = sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())
            lines.append(f"{indent}{entry.name}/  ({_size_text(total)})")
        elif entry.is_dir():
            lines += [f"{indent}{entry.name}/", *_tree_lines(entry, indent + "    ")]
        else:
            lines.append(f"{indent}{entry.name}  ({_size(entry)})")
    if len(entries) > SHOWN_PER_FOLDER:
        lines.append(f"{indent}... and {len(entries) - SHOWN_PER_FOLDER} more")
    return lines


def results_tree(result: RunResult) -> str:
    """The results folder ``<result_dir>/<name>`` as an indented listing with file sizes."""
    root = result.paths.root
    return "\n".join([f"{root.absolute()}/", *_tree_lines(root, "    ")])


def download_link(archive: Path) -> HTML | None:
    """A link that downloads ``archive`` from JupyterLab or Jupyter Notebook (a path
    relative to the kernel's folder, which is the notebook's), None when the archive
    lies outside that folder (the front end cannot serve it)."""
    try:
        relative = archive.absolute().relative_to(Path.cwd().absolute())
    except ValueError:
        return None
    href = html.escape(relative.as_posix(), quote=True)
    return HTML(f'<p><a href="{href}" download="{html.escape(archive.name, quote=True)}" '
                f'target="_blank">&#11015; Download {html.escape(archive.name)} '
                f"({_size(archive)})</a></p>")


def download_results(result: RunResult) -> Path:
    """Zip the results folder beside it and offer it: Colab downloads it, JupyterLab
    shows a download link."""
    root = result.paths.root
    archive = Path(shutil.make_archive(str(root), "zip", root_dir=root.parent,
                                       base_dir=root.name))
    print(f"results zipped to {archive.absolute()} ({_size(archive)})")
    if in_colab():
        from google.colab import files

        files.download(str(archive))
    elif get_ipython() is not None and (link := download_link(archive)) is not None:
        display(link)
    return archive
