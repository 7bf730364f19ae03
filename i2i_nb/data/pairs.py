"""Find input/target image pairs in folders, check them, and load them."""

import re
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from i2i_nb.data.io import (
    AxesOrder,
    DiskImage,
    container_members,
    is_image_path,
    read_image,
    slabs,
    split_container,
)
from i2i_nb.errors import DataError

_SHOWN = 5  # names quoted in a message before "... and N more"
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _names(items: list[str]) -> str:
    """Join names for a message, cut after a few."""
    more = f" ... and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more


def _entries(folder: Path) -> list[Path]:
    """Non-hidden entries of an existing folder, sorted by name."""
    folder = Path(folder).absolute()
    if not folder.exists():
        raise DataError(f"{folder}: folder does not exist")
    if not folder.is_dir():
        raise DataError(f"{folder}: is not a folder")
    return sorted((p for p in folder.iterdir() if not p.name.startswith(".")),
                  key=lambda p: p.name)


def list_images(folder: Path) -> list[Path]:
    """List the images of a folder, sorted by name: TIFF and HDF5 files and ``.zarr``
    stores; or the images inside one Zarr group or HDF5 file given instead of a folder.

    Hidden files (name starting with ``.``) are skipped silently; sub-folders that are not
    ``.zarr`` images, links that lead nowhere (dangling or looping) and any other file are
    skipped with one warning each kind, naming them.

    Raises
    ------
    DataError
        The folder does not exist, is not a folder, or holds no image.
    """
    folder = Path(folder).absolute()
    if split_container(folder)[0] != "tiff" and folder.exists():
        inside = container_members(folder)
        if not inside:
            raise DataError(f"{folder}: holds one image, not several; give its folder, or "
                            "the file itself as a single image")
        return inside
    entries = _entries(folder)
    images = [p for p in entries if is_image_path(p)]
    folders = [p.name for p in entries if p.is_dir() and p not in images]
    broken = [p.name for p in entries if p.is_symlink() and not p.exists()]
    if folders:
        warnings.warn(f"{folder}: ignoring {len(folders)} sub-folder(s), images are read from "
                      f"the folder itself only: {_names(folders)}", stacklevel=2)
    if broken:
        warnings.warn(f"{folder}: ignoring {len(broken)} link(s) that lead to no file "
                      f"(dangling or looping): {_names(broken)}", stacklevel=2)
    others = [p.name for p in entries if p.is_file() and p not in images]
    if others:
        warnings.warn(f"{folder}: ignoring {len(others)} non-TIFF file(s): {_names(others)} "
                      "(images are TIFF or HDF5 files, or .zarr folders)", stacklevel=2)
    if not images:
        raise DataError(f"no TIFF images in {folder} (nor HDF5 files or .zarr folders)")
    return images


def is_single_image(path: Path) -> bool:
    """A TIFF file, an HDF5 file of one dataset, a Zarr image (array or OME-Zarr), or a path
    inside a container: one image rather than a folder or a container of several."""
    kind, container, key = split_container(Path(path))
    if kind == "tiff":
        return Path(path).is_file()
    return container.exists() and (bool(key) or not container_members(container))


def display_name(path: Path) -> str:
    """A file's name, or ``container/key`` for an image inside a Zarr store or HDF5 file."""
    kind, container, key = split_container(Path(path))
    return Path(path).name if kind == "tiff" or not key else f"{container.name}/{key}"


def image_stem(path: Path) -> str:
    """The name an image is known by: a file's stem; for an image inside a container, the
    container's stem and the key (``a.zarr/vol/raw`` -> ``a_vol_raw``)."""
    kind, container, key = split_container(Path(path))
    if kind == "tiff":
        return Path(path).stem
    stem = container.name[:-len(container.suffix)].removesuffix(".ome")
    return "_".join([stem, *key.split("/")]) if key else stem


@dataclass(frozen=True)
class Pair:
    """Input image(s) and their target; several inputs only for the multiple-raw loader."""

    inputs: tuple[Path, ...]
    target: Path | None


def _unpaired(xs: list[Path], ys: list[Path]) -> list[str]:
    """Names without a partner: by file stem if the folders share stems, else the extra tail."""
    x_stems, y_stems = {p.stem for p in xs}, {p.stem for p in ys}
    if x_stems & y_stems:
        return ([p.name for p in xs if p.stem not in y_stems]
                + [p.name for p in ys if p.stem not in x_stems])
    longer = xs if len(xs) > len(ys) else ys
    return [p.name for p in longer[min(len(xs), len(ys)):]]


def _multiple_raw_pairs(x_dir: Path, y_dir: Path | None) -> list[Pair]:
    """Pairs of ``x_dir/<sample>/*.tif`` with ``y_dir/<sample>.tif``."""
    samples = [p for p in _entries(x_dir) if p.is_dir()]
    if not samples:
        raise DataError(f"{Path(x_dir).absolute()}: no sample sub-folders; the multiple-raw "
                        "loader expects x_dir/<sample>/ folders holding the raw images")
    inputs = {s.name: tuple(list_images(s)) for s in samples}
    if y_dir is None:
        return [Pair(raws, None) for raws in inputs.values()]
    x_dir, y_dir = Path(x_dir).absolute(), Path(y_dir).absolute()
    targets = {p.stem: p for p in list_images(y_dir)}
    problems = [f"{x_dir / name}: no target {name}.tif in {y_dir}"
                for name in inputs if name not in targets]
    problems += [f"{path}: no sample sub-folder {x_dir / stem}"
                 for stem, path in targets.items() if stem not in inputs]
    if problems:
        raise DataError("unpaired samples:\n" + "\n".join(f"- {p}" for p in problems))
    return [Pair(raws, targets[name]) for name, raws in inputs.items()]


def _numbers(path: Path) -> tuple[int, ...]:
    """The numbers in a file stem: ``"img_010"`` -> ``(10,)``."""
    return tuple(int(n) for n in re.findall(r"\d+", path.stem))


def _pair_by_name(xs: list[Path], ys: list[Path], x_dir: Path, y_dir: Path) -> list[Pair]:
    """Pairs of two equally long, sorted image lists, refusing names that disagree."""
    x_stems, y_stems = [p.stem for p in xs], [p.stem for p in ys]
    shared = set(x_stems) & set(y_stems)
    if shared:
        problems = [f"{folder / name}: two images named {name}.*"
                    for folder, stems in ((x_dir, x_stems), (y_dir, y_stems))
                    for name, n in Counter(stems).items() if n > 1]
        problems += [f"{p}: no image named {p.stem}.* in {y_dir}" for p in xs
                     if p.stem not in y_stems]
        problems += [f"{p}: no image named {p.stem}.* in {x_dir}" for p in ys
                     if p.stem not in x_stems]
        if problems:
            raise DataError(f"the images of {x_dir} and {y_dir} share some names but not all; "
                            "an input and its target must have the same name:\n"
                            + "\n".join(f"- {p}" for p in problems))
        targets = {p.stem: p for p in ys}
        return [Pair((x,), targets[x.stem]) for x in xs]
    x_numbers, y_numbers = [_numbers(p) for p in xs], [_numbers(p) for p in ys]
    if x_numbers != y_numbers and sorted(x_numbers) == sorted(y_numbers):
        wrong = [f"{x.name} with {y.name}" for x, y, a, b in
                 zip(xs, ys, x_numbers, y_numbers, strict=True) if a != b]
        raise DataError(f"sorted by name, the images of {x_dir} and {y_dir} would pair "
                        f"{_names(wrong)}, whose numbers differ; name each input like its "
                        "target, or pad the numbers with zeros (img_002, img_010)")
    warnings.warn(f"no file name in {x_dir} matches one in {y_dir}: images are paired in "
                  f"sorted order (as BiaPy): "
                  + _names([f"{x.name} with {y.name}" for x, y in zip(xs, ys, strict=True)]),
                  stacklevel=3)
    return [Pair((x,), y) for x, y in zip(xs, ys, strict=True)]


def _multiple_data_pairs(x_dir: Path, keys: tuple[str, str], with_target: bool) -> list[Pair]:
    """BiaPy's ``INPUT_ZARR_MULTIPLE_DATA``: raw and target inside each container."""
    containers = [x_dir] if split_container(Path(x_dir))[0] != "tiff" else list_images(x_dir)
    raw, gt = keys
    if not raw or (with_target and not gt):
        raise DataError(f"{Path(x_dir).absolute()}: INPUT_ZARR_MULTIPLE_DATA needs "
                        "INPUT_ZARR_MULTIPLE_DATA_RAW_PATH" + (" and _GT_PATH" if with_target
                                                               else ""))
    bad = [str(c) for c in containers if split_container(c)[0] == "tiff"]
    if bad:
        raise DataError("INPUT_ZARR_MULTIPLE_DATA reads Zarr or HDF5 containers, not: "
                        + _names(bad))
    return [Pair((c / raw.replace(".", "/"),), c / gt.replace(".", "/") if with_target
                 else None) for c in containers]


def find_pairs(x_dir: Path, y_dir: Path | None, multiple_raw: bool = False,
               multiple_data: tuple[str, str] | None = None) -> list[Pair]:
    """Pair the images of two folders: by name, else by sorted file name order (as BiaPy).

    BiaPy pairs the i-th input with the i-th target in sorted name order, whatever the
    names; a folder with a file missing or extra, or names that sort differently, then
    silently mismatches every pair after it. Here the two folders must hold as many images,
    and:

    - when some file stems (names without extension) occur in both folders, every image
      must have a partner with the same stem, else :class:`DataError` lists the images
      without one (``x: a, b`` with ``y: b, c`` is refused, not paired a-b, b-c); pairs
      are made by stem, which is BiaPy's order whenever BiaPy's pairing is right;
    - when no stem occurs in both (``raw_01.tif`` with ``gt_01.tif``), pairs are made in
      sorted order as BiaPy, with a warning showing the first pairs, unless the numbers
      in the names show that sorted order pairs different numbers (``img_10`` with
      ``gt_02``, as happens without zero padding): that is refused.

    Parameters
    ----------
    x_dir : Path
        Input images; with ``multiple_raw`` one sub-folder per sample holding its raw images.
    y_dir : Path, optional
        Target images; None when predicting without ground truth.
    multiple_raw : bool
        BiaPy's ``MULTIPLE_RAW_ONE_TARGET_LOADER``: ``x_dir/<sample>/`` is paired with the
        target whose file stem is ``<sample>``.
    multiple_data : (str, str), optional
        BiaPy's ``INPUT_ZARR_MULTIPLE_DATA`` with its ``_RAW_PATH`` and ``_GT_PATH``: every
        Zarr/HDF5 container of ``x_dir`` (or ``x_dir`` itself) holds the raw image and its
        target under these keys (``volumes.raw`` or ``volumes/raw``); ``y_dir`` only says
        whether targets are wanted.

    Raises
    ------
    DataError
        Missing folders, no images, images without a partner, or names that disagree.
    """
    if multiple_data is not None:
        return _multiple_data_pairs(x_dir, multiple_data, y_dir is not None)
    if multiple_raw:
        return _multiple_raw_pairs(x_dir, y_dir)
    xs = list_images(x_dir)
    if y_dir is None:
        return [Pair((x,), None) for x in xs]
    ys = list_images(y_dir)
    x_dir, y_dir = Path(x_dir).absolute(), Path(y_dir).absolute()
    if len(xs) != len(ys):
        raise DataError(f"{x_dir} has {len(xs)} images but {y_dir} has {len(ys)}; without a "
                        f"partner: {_names(_unpaired(xs, ys))}")
    return _pair_by_name(xs, ys, x_dir, y_dir)


@dataclass
class ImageInfo:
    """What :func:`inspect_image` found in one image (min/max over finite values)."""

    path: Path
    shape: tuple[int, ...]
    channels: int
    dtype: str
    min: float
    max: float
    nonfinite: int = 0


def inspect_image(path: Path, ndim: int, axes: AxesOrder | str | None = None
                  ) -> tuple[np.ndarray, ImageInfo]:
    """Describe an image, reading it from disk block by block (see :func:`slabs`).

    Returns the image as ``read_image(..., memmap=True)`` gives it, and its description.
    """
    image = read_image(path, ndim, axes, memmap=True)
    nonfinite, low, high = 0, np.inf, -np.inf
    for block in slabs(image):
        values = block
        if np.issubdtype(block.dtype, np.floating):
            finite = np.isfinite(block)
            bad = int(block.size - np.count_nonzero(finite))
            nonfinite += bad
            values = block[finite] if bad else block
        if values.size:
            low, high = min(low, float(values.min())), max(high, float(values.max()))
    if not np.isfinite(low):
        low = high = np.nan
    info = ImageInfo(Path(path).absolute(), tuple(image.shape[:-1]), int(image.shape[-1]),
                     str(image.dtype), low, high, nonfinite)
    return image, info


def _channel_problems(infos: list[ImageInfo], role: str) -> list[str]:
    """One line per image whose channel count differs from the majority of its set."""
    if not infos:
        return []
    majority = Counter(i.channels for i in infos).most_common(1)[0][0]
    return [f"{i.path}: has {i.channels} channel(s) but most {role} have {majority}"
            for i in infos if i.channels != majority]


def check_pairs(pairs: list[Pair], ndim: int, axes_x: AxesOrder | str | None = None,
                axes_y: AxesOrder | str | None = None) -> list[dict]:
    """Read every image once and report all problems together.

    Problems: unreadable file, wrong dimensions, NaN/Inf values, values beyond the float32
    range (float64 files), a pair whose spatial shapes differ, a channel count that varies
    among the inputs or among the targets. A constant image only warns, naming it. Inputs
    and targets may have different channel counts; any integer or real dtype is accepted
    (``int32``, ``uint32``, ``float64``...: values are converted to floats, not wrapped).

    Returns
    -------
    list of dict
        One row per pair: ``input``, ``target``, ``shape``, ``in_channels``, ``out_channels``,
        ``in_dtype``, ``out_dtype``, ``in_range``, ``out_range``.

    Raises
    ------
    DataError
        Listing every problem on its own line, each naming the file(s).
    """
    problems: list[str] = []
    infos: dict[Path, ImageInfo | None] = {}

    def info_of(path: Path, axes: AxesOrder | str | None) -> ImageInfo | None:
        if path not in infos:
            try:
                infos[path] = inspect_image(path, ndim, axes)[1]
            except DataError as exc:
                infos[path] = None
                problems.append(str(exc))
        return infos[path]

    rows, inputs, targets = [], {}, {}
    for pair in pairs:
        xs = [info_of(p, axes_x) for p in pair.inputs]
        y = info_of(pair.target, axes_y) if pair.target is not None else None
        inputs.update({i.path: i for i in xs if i})
        if y:
            targets[y.path] = y
        reference = y or next((i for i in xs if i), None)
        role = "its target" if y else "the first input"
        problems += [f"{i.path} has spatial shape {i.shape} but {role} {reference.path} has "
                     f"{reference.shape}" for i in xs if i and i.shape != reference.shape]
        if all(xs) and (y or pair.target is None):
            rows.append({
                "input": ", ".join(display_name(p) for p in pair.inputs),
                "target": display_name(pair.target) if pair.target else None,
                "shape": xs[0].shape,
                "in_channels": xs[0].channels,
                "out_channels": y.channels if y else None,
                "in_dtype": xs[0].dtype,
                "out_dtype": y.dtype if y else None,
                "in_range": (min(i.min for i in xs), max(i.max for i in xs)),
                "out_range": (y.min, y.max) if y else None,
            })
    every = [*inputs.values(), *targets.values()]
    problems += [f"{i.path}: contains {i.nonfinite} NaN or infinite value(s)"
                 for i in every if i.nonfinite]
    problems += [f"{i.path}: values from {i.min:.3g} to {i.max:.3g} exceed the float32 range "
                 f"(+-{FLOAT32_MAX:.3g}) used for training and prediction; rescale the image"
                 for i in every if max(abs(i.min), abs(i.max)) > FLOAT32_MAX]
    problems += _channel_problems(list(inputs.values()), "inputs")
    problems += _channel_problems(list(targets.values()), "targets")
    constant = [str(i.path) for i in every if i.min == i.max]
    if constant:
        warnings.warn("constant image(s), all pixels equal: " + _names(constant), stacklevel=2)
    if problems:
        raise DataError(f"{len(problems)} problem(s) in the data:\n"
                        + "\n".join(f"- {p}" for p in problems))
    return rows


def load_pairs(pairs: list[Pair], ndim: int, axes_x: AxesOrder | str | None = None,
               axes_y: AxesOrder | str | None = None, in_memory: bool = True
               ) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Read the pairs as channel-last arrays in their original dtype.

    Returns one ``(x, y)`` per input image; the inputs of a multiple-raw pair share one target
    array (read once). ``y`` is None for pairs without target. Without ``in_memory`` the
    images are :class:`~i2i_nb.data.io.DiskImage` objects, read only where sliced.
    """
    def read(path: Path, axes: AxesOrder | str | None) -> np.ndarray:
        return read_image(path, ndim, axes) if in_memory else DiskImage(path, ndim, axes)

    loaded: list[tuple[np.ndarray, np.ndarray | None]] = []
    targets: dict[Path, np.ndarray] = {}
    for pair in pairs:
        y = None
        if pair.target is not None:
            if pair.target not in targets:
                targets[pair.target] = read(pair.target, axes_y)
            y = targets[pair.target]
        loaded += [(read(x, axes_x), y) for x in pair.inputs]
    return loaded
