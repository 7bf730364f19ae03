"""Axes of stored images: check the user's, guess from the shape, reorder to channel-last.

In memory an image is ``(y, x, c)`` in 2D and ``(z, y, x, c)`` in 3D. Stored arrays may
hold the letters ``ZYXC`` in any order, and a ``T`` axis of size 1 (BiaPy's
``INPUT_IMG_AXES_ORDER`` default is ``TZCYX``), which is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from i2i_nb.errors import DataError

MAX_CHANNELS = 16
AXES_LETTERS = "ZYXC"


def spatial_axes(ndim: int) -> str:
    """Return the spatial axes letters of a workflow: ``"YX"`` (2D) or ``"ZYX"`` (3D)."""
    if ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, got {ndim!r}")
    return "ZYX"[-ndim:]


@dataclass(frozen=True)
class Layout:
    """How a stored array maps to the channel-last view.

    ``letters`` are the stored axes (``T`` only of size 1); the view drops ``T``, adds a
    channel axis when there is none and orders the rest as ``spatial + "C"``.
    """

    letters: str
    ndim: int

    @property
    def kept(self) -> str:
        """The stored letters without ``T``."""
        return self.letters.replace("T", "")

    @property
    def order(self) -> list[int]:
        """Transpose of the kept axes (plus a trailing new channel axis) to channel-last."""
        kept = self.kept if "C" in self.kept else self.kept + "C"
        return [kept.index(a) for a in spatial_axes(self.ndim) + "C"]


@dataclass(frozen=True)
class AxesOrder:
    """Stored axes given by the config, by format: ``tiff`` for TIFF files (``DATA.AXES``),
    ``container`` for Zarr/HDF5 arrays (BiaPy's ``INPUT_IMG_AXES_ORDER``, falling back to
    the TIFF one); None or ``""``: from the file's metadata, else guessed."""

    tiff: str | None = None
    container: str | None = None

    def pick(self, kind: str) -> str | None:
        """The axes for a format (``tiff``, ``zarr`` or ``hdf5``)."""
        if kind == "tiff":
            return self.tiff or None
        return self.container or self.tiff or None


def check_axes(path: Path | str, axes: str, shape: tuple[int, ...], ndim: int) -> str:
    """Validate user-given axes against a stored shape and the workflow; return them
    upper-case. A ``T`` axis is allowed when its size is 1."""
    letters = axes.upper()
    needed = spatial_axes(ndim)
    allowed = needed + "CT"
    problem = None
    if len(letters) != len(shape):
        problem = f"they have {len(letters)} letters but the image has shape {tuple(shape)}"
    elif set(letters) - set(AXES_LETTERS + "T"):
        problem = f"they may only use the letters {AXES_LETTERS} (and T of size 1)"
    elif len(set(letters)) != len(letters):
        problem = "they repeat a letter"
    elif set(letters) - set(allowed) or set(needed) - set(letters):
        problem = f"they must hold {needed} (and optionally C) for a {ndim}D workflow"
    elif "T" in letters and shape[letters.index("T")] != 1:
        problem = (f"the T axis has {shape[letters.index('T')]} time points; only one is "
                   "supported (store each time point as its own image)")
    if problem:
        raise DataError(f"{path}: the axes {axes!r} do not fit this image: {problem}")
    return letters


def metadata_axes(path: Path | str, shape: tuple[int, ...], ndim: int, file_axes: str
                  ) -> str | None:
    """The file's own axes (TIFF metadata, NGFF ``axes``) when they name only Z, Y, X, C
    (``S`` samples count as C; ``T`` of size 1 is allowed), checked against the workflow;
    None when they are not informative."""
    meta = file_axes.upper().replace("S", "C")
    nd = len(shape)
    if not (len(meta) == nd and len(set(meta)) == nd and set(meta) <= set(AXES_LETTERS + "T")
            and "Y" in meta and "X" in meta):
        return None
    if "T" in meta and shape[meta.index("T")] != 1:
        return None
    if ("Z" in meta) == (ndim == 3):
        return meta
    found = (f"found shape {tuple(shape)} but the {ndim}D workflow expects "
             f"{_expected(ndim)} (the file's axes are {file_axes!r})")
    if ndim == 3:
        raise DataError(f"{path}: {found}; it is a 2D image, the 3D workflow needs "
                        "(z, y, x[, c])")
    raise DataError(f"{path}: {found}; it is a 3D stack: use PROBLEM.NDIM 3D, or give the axes")


def _expected(ndim: int) -> str:
    return "(y, x) or (y, x, c)" if ndim == 2 else "(z, y, x) or (z, y, x, c)"


def guess_axes(path: Path | str, shape: tuple[int, ...], ndim: int, file_axes: str = "") -> str:
    """Guess the stored axes from the shape (and, when informative, the file's metadata)."""
    meta = metadata_axes(path, shape, ndim, file_axes)
    if meta is not None:
        return meta
    nd = len(shape)
    found = f"found shape {tuple(shape)} but the {ndim}D workflow expects {_expected(ndim)}"
    if nd == ndim:
        if ndim == 3 and shape[-1] <= 4 and min(shape[:2]) > 16:
            raise DataError(f"{path}: {found}; it looks like a 2D multi-channel image (y, x, c); "
                            "set axes 'ZYX' if it really is a volume")
        return spatial_axes(ndim)
    if nd == ndim + 1:
        if shape[-1] <= MAX_CHANNELS:
            return spatial_axes(ndim) + "C"
        if shape[0] <= 4:
            raise DataError(f"{path}: {found}; it looks channel-first, set axes to "
                            f"'C{spatial_axes(ndim)}'")
        if ndim == 2:
            raise DataError(f"{path}: {found}; it looks like a 3D stack (z, y, x): "
                            "use PROBLEM.NDIM 3D, or give the axes")
        raise DataError(f"{path}: {found}; give the axes (e.g. 'ZCYX')")
    if nd == 2:
        raise DataError(f"{path}: {found}; it is a 2D image, the 3D workflow needs "
                        "(z, y, x[, c])")
    hint = "use PROBLEM.NDIM 3D, or give the axes" if nd == 4 else "only 2D or 3D images are used"
    raise DataError(f"{path}: {found}; an array with {nd} dimensions is not supported ({hint})")


def layout_of(path: Path | str, shape: tuple[int, ...], ndim: int, axes: str | None,
              file_axes: str = "") -> Layout:
    """The :class:`Layout` of a stored array: the user's axes, else the file's, else a guess."""
    letters = (check_axes(path, axes, shape, ndim) if axes
               else guess_axes(path, shape, ndim, file_axes))
    return Layout(letters, ndim)
