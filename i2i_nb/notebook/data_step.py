"""The data section: get the data (demo, folder or uploaded zip), check it, look at it."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import ipywidgets
from IPython.display import HTML

from i2i_nb.config import Config
from i2i_nb.data.io import read_image
from i2i_nb.data.pairs import display_name
from i2i_nb.data.sources import split_axes, split_pairs
from i2i_nb.demo import make_demo_data
from i2i_nb.errors import ConfigError, DataError
from i2i_nb.notebook.figures import Column, Rows, show
from i2i_nb.notebook.safe_zip import extract_zip
from i2i_nb.notebook.tables import html_table

SOURCES = ("demo", "folder", "zip")


def _data_root(folder: Path) -> Path:
    """``folder``, or its only sub-folder when that one holds ``train/`` (a zipped folder)."""
    subfolders = [p for p in folder.iterdir() if p.is_dir() and p.name[0] not in "._"]
    if not (folder / "train").is_dir() and len(subfolders) == 1:
        if (subfolders[0] / "train").is_dir():
            return subfolders[0]
    return folder


def prepare_data(source: str, folder: str | Path, ndim: int,
                 upload_zip: str | Path | bytes | None = None) -> Path:
    """Make the data folder ready and return the folder holding ``train/`` and ``test/``.

    Parameters
    ----------
    source : ``"demo"`` writes the built-in demo data into ``folder``; ``"folder"``
        uses ``folder`` as it is; ``"zip"`` extracts ``upload_zip`` (a path or the
        archive's bytes) into ``folder`` safely (see :func:`extract_zip`).
    folder : the data folder.
    ndim : 2 or 3.
    upload_zip : the archive, for ``"zip"``.
    """
    folder = Path(folder)
    if source not in SOURCES:
        raise ConfigError(f"data_source: {source!r} is not one of {', '.join(SOURCES)}")
    if source == "demo":
        return make_demo_data(folder, ndim)
    if source == "zip":
        if upload_zip is None:
            raise DataError("data_source is 'zip' but no archive was uploaded: upload one "
                            "with the button above, then run this cell again")
        written = extract_zip(upload_zip, folder)
        print(f"extracted {len(written)} files into {folder}")
    if not folder.is_dir():
        raise DataError(f"{folder.absolute()}: folder does not exist")
    return _data_root(folder)


def upload_widget() -> ipywidgets.FileUpload:
    """A button to upload one zip archive of the data (ipywidgets 7 and 8)."""
    return ipywidgets.FileUpload(accept=".zip", multiple=False, description="Upload zip")


def uploaded_files(widget_value: Any) -> list[tuple[str, bytes]]:
    """``(name, content)`` of each uploaded file from a ``FileUpload.value``.

    ipywidgets 8 gives a tuple of dicts with ``name`` and ``content``; ipywidgets 7
    a dict from name to ``{"metadata": ..., "content": ...}``.
    """
    if isinstance(widget_value, dict):
        return [(name, bytes(entry["content"])) for name, entry in widget_value.items()]
    return [(entry["name"], bytes(entry["content"])) for entry in widget_value or ()]


def uploaded_zip(widget: ipywidgets.FileUpload) -> bytes | None:
    """The content of the uploaded archive, None before an upload."""
    files = uploaded_files(widget.value)
    return files[-1][1] if files else None


def _splits(cfg: Config) -> list[tuple[str, Any, str, str | None]]:
    d = cfg.data
    splits = [("train", d.train, d.train.path, d.train.gt_path)]
    if not d.val.from_train:
        splits.append(("validation", d.val, d.val.path, d.val.gt_path))
    return splits + [("test", d.test, d.test.path, d.test.gt_path if d.test.load_gt else None)]


def _span(value: tuple[float, float] | None) -> str:
    return "" if value is None else f"{value[0]:.4g} to {value[1]:.4g}"


def check_rows(cfg: Config) -> list[list[object]]:
    """One row per image pair of every split, or one row naming a split's problems.

    A split's path may be a folder of TIFF/HDF5 files and ``.zarr`` stores, one image (a
    ``.zarr`` folder too), or a Zarr group / HDF5 file holding several images."""
    rows: list[list[object]] = []
    for split, keys, x_dir, y_dir in _splits(cfg):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                checked = split_pairs(keys, x_dir, y_dir, cfg)[1]
            except DataError as err:
                rows.append([split, x_dir, y_dir or "", "", "", "", "", "", str(err)])
                checked = []
        rows += [[split, r["input"], r["target"] or "", r["shape"],
                  f"{r['in_channels']} -> {r['out_channels']}", f"{r['in_dtype']} / "
                  f"{r['out_dtype']}", _span(r["in_range"]), _span(r["out_range"]), ""]
                 for r in checked]
        rows += [[split, "", "", "", "", "", "", "", f"warning: {w.message}"] for w in caught]
    return rows


def check_table(cfg: Config) -> HTML:
    """The data check as a table: shapes, channels, types and ranges, and every problem."""
    header = ["split", "input", "target", "shape", "channels", "dtypes", "input range",
              "target range", "problem"]
    rows = check_rows(cfg)
    problems = sum(1 for row in rows if row[-1] and not str(row[-1]).startswith("warning"))
    verdict = (f"<p><b>{problems} split(s) with problems: fix them before training.</b></p>"
               if problems else "<p>All image pairs are readable and consistent.</p>")
    return HTML(verdict + html_table(header, rows))


PAIR_COLUMNS = [Column("input"), Column("target")]


def training_pairs(cfg: Config, n: int = 3) -> Rows:
    """The first ``n`` training pairs as ``(input name, [input, target])``, left on disk
    (a volume's planes are read as they are shown)."""
    d = cfg.data
    pairs = split_pairs(d.train, d.train.path, d.train.gt_path, cfg, check=False)[0][:n]
    axes_x, axes_y = split_axes(cfg, d.train)
    return [(display_name(pair.inputs[0]), [read_image(pair.inputs[0], cfg.ndim, axes_x, True),
                                            read_image(pair.target, cfg.ndim, axes_y, True)])
            for pair in pairs]


def show_pairs(cfg: Config, n: int = 3, interactive: bool | None = None) -> None:
    """Display input and target (channel 0; volumes: the middle z-slice) of ``n`` training
    pairs; volumes get a z-slider when ``interactive`` (None: in a live front end)."""
    show(training_pairs(cfg, n), PAIR_COLUMNS, interactive)
