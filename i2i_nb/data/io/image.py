"""One entry point for every format: TIFF files, Zarr/OME-Zarr stores, HDF5 files.

An image is named by one path: a TIFF file, a ``.zarr`` folder (an array or an OME-Zarr
image), an HDF5 file holding one dataset, or a path *inside* a Zarr store or HDF5 file
(``data.zarr/volumes/raw``, ``data.h5/raw``; BiaPy's ``volumes.raw`` also works), as
when one container holds several images or the raw image and its target.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from i2i_nb.data.io import hdf5
from i2i_nb.data.io import zarr as zarr_io
from i2i_nb.data.io.axes import AxesOrder, layout_of
from i2i_nb.data.io.hdf5 import HDF5_SUFFIXES, H5Dataset
from i2i_nb.data.io.lazy import ChannelLastView
from i2i_nb.data.io.metadata import PixelSize
from i2i_nb.data.io.tiff import (
    TIFF_SUFFIXES,
    read_tiff,
    read_tiff_pixel_size,
    tiff_on_disk,
    write_tiff,
)
from i2i_nb.errors import DataError

ZARR_SUFFIXES = (".zarr",)
IMAGE_SUFFIXES = TIFF_SUFFIXES + ZARR_SUFFIXES + HDF5_SUFFIXES
BIAPY_DEFAULT_AXES = "TZCYX"  # BiaPy's INPUT_IMG_AXES_ORDER default


def split_container(path: Path) -> tuple[str, Path, str]:
    """``(format, file or store, key inside it)`` of an image path: format ``tiff``, ``zarr``
    or ``hdf5``; the key is ``""`` for the container itself."""
    path = Path(path)
    for candidate in (path, *path.parents):
        suffix = candidate.suffix.lower()
        if suffix in ZARR_SUFFIXES or suffix in HDF5_SUFFIXES:
            key = path.relative_to(candidate).as_posix()
            return ("zarr" if suffix in ZARR_SUFFIXES else "hdf5"), candidate, \
                "" if key == "." else key
    return "tiff", path, ""


def is_image_path(path: Path) -> bool:
    """A TIFF file, a ``.zarr`` folder or an HDF5 file (by name; not opened)."""
    suffix = path.suffix.lower()
    return (path.is_file() and suffix in TIFF_SUFFIXES + HDF5_SUFFIXES) or (
        path.is_dir() and suffix in ZARR_SUFFIXES)


def container_members(path: Path) -> list[Path]:
    """The images directly inside a Zarr group or HDF5 file, as paths into it, sorted;
    ``[]`` when ``path`` is an image itself (or a TIFF)."""
    kind, container, key = split_container(path)
    if kind == "zarr" and not key:
        return [path / name for name in zarr_io.members(container)]
    if kind == "hdf5" and not key:
        names = hdf5.members(container)
        return [path / name for name in names] if len(names) > 1 else []
    return []


def _stored(path: Path, ndim: int, memmap: bool
            ) -> tuple[object, str, PixelSize, Path]:
    """The stored array (numpy or lazy source), its metadata axes, pixel sizes, its name."""
    kind, container, key = split_container(path)
    if kind == "tiff":
        array, axes, size = read_tiff(path, ndim, memmap)
        return array, axes, size, path
    if not container.exists():
        raise DataError(f"{container}: file or folder does not exist")
    if kind == "zarr":
        return zarr_io.read_zarr(container, key, ndim)
    source = H5Dataset(container, key)
    return source, source.axes, PixelSize.unknown(ndim), container / source.key


def read_image(path: Path, ndim: int, axes: str | AxesOrder | None = None,
               memmap: bool = False) -> np.ndarray:
    """Read an image (TIFF, Zarr, OME-Zarr or HDF5) as a channel-last array in its dtype.

    Parameters
    ----------
    path : Path
        Image path (see the module docstring).
    ndim : int
        Spatial dimensions of the workflow, 2 or 3.
    axes : str or AxesOrder, optional
        Stored axes order, letters from ``"ZYXC"`` (and ``T`` of size 1), e.g. ``"CZYX"``;
        an :class:`~i2i_nb.data.io.axes.AxesOrder` picks it by format.
        Without it the order is taken from the file's metadata (ImageJ/OME TIFF, NGFF
        ``axes``, Zarr v3 dimension names) when that names only those axes, otherwise
        guessed from the shape: ``(y, x[, c])`` or ``(z, y, x[, c])`` with at most 16
        channels.
    memmap : bool
        Leave the data on disk: a TIFF is memory-mapped (or decoded into a temporary file
        when compressed); a Zarr or HDF5 image is a lazy channel-last view
        (:class:`~i2i_nb.data.io.lazy.ChannelLastView`) whose slices read only what they
        cover.

    Returns
    -------
    numpy.ndarray
        ``(y, x, c)`` or ``(z, y, x, c)`` (a view with the same interface for Zarr/HDF5
        with ``memmap``).

    Raises
    ------
    DataError
        Unreadable file, or a shape that does not fit the workflow; the message names the file.
    """
    path = Path(path).absolute()
    if isinstance(axes, AxesOrder):
        axes = axes.pick(split_container(path)[0])
    array, file_axes, _, where = _stored(path, ndim, memmap)
    if axes and axes.upper() == BIAPY_DEFAULT_AXES and len(array.shape) != 5:
        axes = None  # BiaPy's default order, left in a config, on an array without T and C
    dtype = np.dtype(array.dtype)
    if not (np.issubdtype(dtype, np.number) or dtype == np.bool_) or np.issubdtype(
            dtype, np.complexfloating):
        raise DataError(f"{where}: pixel type {dtype} is not supported (use integers or "
                        "real floats)")
    layout = layout_of(where, tuple(array.shape), ndim, axes, file_axes)
    if isinstance(array, np.ndarray):
        kept = array.squeeze(axis=layout.letters.index("T")) if "T" in layout.letters else array
        if "C" not in layout.kept:
            kept = kept[..., np.newaxis]
        return np.transpose(kept, layout.order)
    view = ChannelLastView(array, layout)
    return view if memmap else np.asarray(view)


def read_pixel_size(path: Path, ndim: int) -> PixelSize:
    """Pixel sizes of an image (size 1 and no unit where the file gives none, or cannot be
    read); the pixels themselves are not read."""
    path = Path(path).absolute()
    try:
        if split_container(path)[0] == "tiff":
            return read_tiff_pixel_size(path, ndim)
        return _stored(path, ndim, memmap=True)[2]
    except (DataError, OSError, ValueError, KeyError, TypeError, IndexError):
        return PixelSize.unknown(ndim)


def is_zarr_path(path: Path) -> bool:
    """Whether ``path`` names a Zarr store (or a path inside one)."""
    return split_container(Path(path))[0] == "zarr"


def write_image(path: Path, image: np.ndarray, ndim: int, pixel_size: PixelSize | None = None
                ) -> None:
    """Write a channel-last image atomically: OME-Zarr when ``path`` ends in ``.zarr``
    (:func:`~i2i_nb.data.io.zarr.write_ome_zarr`), else an ImageJ TIFF
    (:func:`~i2i_nb.data.io.tiff.write_tiff`); ``pixel_size`` is stored with it."""
    if Path(path).suffix.lower() in ZARR_SUFFIXES:
        zarr_io.write_ome_zarr(Path(path), image, ndim, pixel_size)
    else:
        write_tiff(Path(path), image, ndim, pixel_size)


image_on_disk = tiff_on_disk


class DiskImage:
    """A channel-last image left on disk (see ``read_image(memmap=True)``), read by slicing.

    Pickling stores the path, not the data: a worker process reopens the file.
    """

    def __init__(self, path: Path, ndim: int, axes: str | AxesOrder | None = None) -> None:
        self.path, self.workflow_ndim, self.axes = Path(path), ndim, axes
        self.array = read_image(path, ndim, axes, memmap=True)

    @property
    def shape(self) -> tuple[int, ...]:
        """Channel-last shape."""
        return self.array.shape

    @property
    def dtype(self) -> np.dtype:
        """The file's pixel type."""
        return self.array.dtype

    @property
    def ndim(self) -> int:
        """Array dimensions (spatial axes + 1)."""
        return self.array.ndim

    def __getitem__(self, key: object) -> np.ndarray:
        return self.array[key]

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self.array, dtype=dtype)

    def max(self, axis: None = None, out: None = None, **_: object) -> np.generic:
        """Maximum over all values (block by block on disk)."""
        return np.max(self.array)

    def min(self, axis: None = None, out: None = None, **_: object) -> np.generic:
        """Minimum over all values (block by block on disk)."""
        return np.min(self.array)

    def __reduce__(self) -> tuple:
        return DiskImage, (self.path, self.workflow_ndim, self.axes)
