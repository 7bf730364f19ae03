"""Read and write TIFF images as channel-last numpy arrays.

In memory an image is ``(y, x, c)`` in 2D and ``(z, y, x, c)`` in 3D, in the file's own dtype.
"""

import contextlib
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import tifffile

from i2i_nb.errors import DataError
from i2i_nb.files import atomic_path, naming, temporary_name

IMAGE_SUFFIXES = (".tif", ".tiff")
MAX_CHANNELS = 16
AXES_LETTERS = "ZYXC"
_IMAGEJ_DTYPES = (np.uint8, np.uint16, np.float32)


def spatial_axes(ndim: int) -> str:
    """Return the spatial axes letters of a workflow: ``"YX"`` (2D) or ``"ZYX"`` (3D)."""
    if ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, got {ndim!r}")
    return "ZYX"[-ndim:]


def dtype_max(dtype: np.dtype | type) -> float | None:
    """Largest value of an integer dtype (``uint8`` 255, ``uint16`` 65535, ...); None for floats."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return 1.0
    if np.issubdtype(dtype, np.integer):
        return float(np.iinfo(dtype).max)
    return None


class _ErrorRecords(logging.Handler):
    """Collect the errors tifffile logs (it logs, rather than raises, on some truncated files)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _read_series(path: Path, series: tifffile.TiffPageSeries, memmap: bool) -> np.ndarray:
    """The series' data in memory, or left on disk: a memory map of the file when the data
    are stored contiguous and uncompressed, else decoded into an unlinked temporary file."""
    if not memmap:
        return series.asarray()
    if series.dataoffset is not None:
        return tifffile.memmap(path, series=0, mode="r")
    out = disk_array(series.shape, series.dtype)
    series.asarray(out=out)
    out.flags.writeable = False
    return out


def _warn_extra_pages(path: Path, tif: tifffile.TiffFile, series: tifffile.TiffPageSeries,
                      extra: int) -> None:
    """Say that pages outside the first series (another image in the same file) are not read."""
    others = ", ".join(f"{s.shape} {s.dtype}" for s in tif.series[1:4])
    warnings.warn(f"{path}: the file holds {len(tif.pages)} pages; only the first image, "
                  f"{len(series.pages)} page(s) of shape {series.shape}, is read and "
                  f"{extra} other page(s) are ignored" + (f" (other images: {others})"
                                                          if others else "")
                  + "; save each image in its own file, or all planes as one stack",
                  stacklevel=4)


def _read_tiff(path: Path, memmap: bool = False) -> tuple[np.ndarray, str]:
    """Read the first series of a TIFF; return the array and the axes tifffile found."""
    log = logging.getLogger("tifffile")
    errors = _ErrorRecords()
    log.addHandler(errors)
    try:
        with tifffile.TiffFile(path) as tif:
            if not tif.series:
                raise DataError(f"{path}: the TIFF file holds no image")
            series = tif.series[0]
            array, file_axes = _read_series(path, series, memmap), series.axes
            extra = len(tif.pages) - len(series.pages)
            if extra > 0:
                _warn_extra_pages(path, tif, series, extra)
    except DataError:
        raise
    except (OSError, ValueError, EOFError, IndexError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: cannot read this TIFF file, it may be corrupt or truncated "
                        f"({exc})") from exc
    finally:
        log.removeHandler(errors)
    if errors.messages:
        raise DataError(f"{path}: the TIFF file is corrupt or truncated ({errors.messages[0]})")
    return array, file_axes


def _check_axes(path: Path, axes: str, array: np.ndarray, ndim: int) -> str:
    """Validate user-given axes against the array and the workflow; return them upper-case."""
    letters = axes.upper()
    needed = spatial_axes(ndim)
    allowed = needed + "C"
    problem = None
    if len(letters) != array.ndim:
        problem = f"they have {len(letters)} letters but the image has shape {array.shape}"
    elif set(letters) - set(AXES_LETTERS):
        problem = f"they may only use the letters {AXES_LETTERS}"
    elif len(set(letters)) != len(letters):
        problem = "they repeat a letter"
    elif set(letters) - set(allowed) or set(needed) - set(letters):
        problem = f"they must hold {needed} (and optionally C) for a {ndim}D workflow"
    if problem:
        raise DataError(f"{path}: the axes {axes!r} do not fit this image: {problem}")
    return letters


def _guess_axes(path: Path, array: np.ndarray, ndim: int, file_axes: str) -> str:
    """Guess the stored axes from the shape (and, when informative, the file's metadata)."""
    shape, nd = array.shape, array.ndim
    expected = "(y, x) or (y, x, c)" if ndim == 2 else "(z, y, x) or (z, y, x, c)"
    found = f"found shape {shape} but the {ndim}D workflow expects {expected}"
    meta = file_axes.replace("S", "C")
    if (len(meta) == nd and len(set(meta)) == nd and set(meta) <= set(AXES_LETTERS)
            and "Y" in meta and "X" in meta):
        if ("Z" in meta) == (ndim == 3):
            return meta
        found += f" (the file's axes are {file_axes!r})"
        if ndim == 3:
            raise DataError(f"{path}: {found}; it is a 2D image, the 3D workflow needs "
                            "(z, y, x[, c])")
        raise DataError(f"{path}: {found}; it is a 3D stack: use PROBLEM.NDIM 3D, "
                        "or give the axes")
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


def read_image(path: Path, ndim: int, axes: str | None = None, memmap: bool = False
               ) -> np.ndarray:
    """Read a TIFF image as a channel-last array in its original dtype.

    Parameters
    ----------
    path : Path
        TIFF file.
    ndim : int
        Spatial dimensions of the workflow, 2 or 3.
    axes : str, optional
        Stored axes order, letters from ``"ZYXC"`` (e.g. ``"CZYX"``). Without it the order is
        taken from the file's ImageJ/OME/tifffile metadata when that names only Z, Y, X, C
        axes, otherwise guessed from the shape: ``(y, x[, c])`` or ``(z, y, x[, c])`` with at
        most 16 channels.
    memmap : bool
        Leave the data on disk: a read-only memory map of the file when its data are stored
        uncompressed and contiguous (the usual for large ImageJ/tifffile stacks), otherwise
        decoded into a temporary file that is deleted with the array.  Slices read only
        what they cover.

    Returns
    -------
    numpy.ndarray
        ``(y, x, c)`` or ``(z, y, x, c)``.

    Raises
    ------
    DataError
        Unreadable file, or a shape that does not fit the workflow; the message names the file.
    """
    path = Path(path).absolute()
    array, file_axes = _read_tiff(path, memmap)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_) or np.issubdtype(
            array.dtype, np.complexfloating):
        raise DataError(f"{path}: pixel type {array.dtype} is not supported (use integers or "
                        "real floats)")
    if axes is None:
        letters = _guess_axes(path, array, ndim, file_axes)
    else:
        letters = _check_axes(path, axes, array, ndim)
    if "C" not in letters:
        array, letters = array[..., np.newaxis], letters + "C"
    order = [letters.index(a) for a in spatial_axes(ndim) + "C"]
    return np.transpose(array, order)


def slab_ranges(image: np.ndarray, max_bytes: int = 64 << 20, multiple: int = 1
                ) -> Iterator[slice]:
    """Consecutive ranges of ``image``'s first axis, each of about ``max_bytes`` or less and a
    whole ``multiple`` of planes (one at least; the last may be shorter)."""
    planes = max_bytes // max(1, image[:1].nbytes)
    step = max(multiple, planes // multiple * multiple)
    for start in range(0, image.shape[0], step):
        yield slice(start, start + step)


def slabs(image: np.ndarray, max_bytes: int = 64 << 20, multiple: int = 1
          ) -> Iterator[np.ndarray]:
    """The blocks of :func:`slab_ranges`, in memory: a memory-mapped image is read a block
    at a time."""
    for block in slab_ranges(image, max_bytes, multiple):
        yield np.asarray(image[block])


def disk_array(shape: tuple[int, ...], dtype: np.dtype | type, folder: Path | None = None
               ) -> np.memmap:
    """A writable array in an unlinked temporary file (in ``folder``, default the system's
    temporary folder), deleted when the array is released."""
    with tempfile.TemporaryFile(prefix="i2i_nb-", dir=folder) as handle:
        return np.memmap(handle, dtype=dtype, mode="w+", shape=shape)


class DiskImage:
    """A channel-last image left on disk (see ``read_image(memmap=True)``), read by slicing.

    Pickling stores the path, not the data: a worker process reopens the file.
    """

    def __init__(self, path: Path, ndim: int, axes: str | None = None) -> None:
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

    def __reduce__(self) -> tuple:
        return DiskImage, (self.path, self.workflow_ndim, self.axes)


def _layout(shape: tuple[int, ...], ndim: int) -> tuple[tuple[int, ...], str]:
    """The stored shape and axes of a channel-last image: no channel axis for one channel,
    else channels before Y, X as ImageJ requires."""
    if len(shape) != ndim + 1:
        raise ValueError(f"expected a channel-last {ndim}D image with {ndim + 1} dimensions, "
                         f"got shape {shape}")
    if shape[-1] == 1:
        return shape[:-1], spatial_axes(ndim)
    return (*shape[:ndim - 2], shape[-1], *shape[ndim - 2:-1]), spatial_axes(ndim)[:-2] + "CYX"


def _stored(image: np.ndarray, ndim: int) -> np.ndarray:
    """The channel-last view of an array in the stored layout of :func:`_layout`."""
    return image[..., np.newaxis] if image.ndim == ndim else np.moveaxis(image, ndim - 2, -1)


def write_image(path: Path, image: np.ndarray, ndim: int) -> None:
    """Write a channel-last image as a TIFF file, atomically.

    The file is ImageJ-compatible (axes ``YX``, ``CYX``, ``ZYX`` or ``ZCYX``) for uint8, uint16
    and float32; other dtypes are written with tifffile's own axes metadata. A single channel
    is stored without a channel axis. Parent folders are created; the file is written under
    a temporary name and renamed, so it is never seen half-written.

    Parameters
    ----------
    path : Path
        Destination file.
    image : numpy.ndarray
        ``(y, x, c)`` or ``(z, y, x, c)``.
    ndim : int
        Spatial dimensions, 2 or 3.
    """
    _, axes = _layout(image.shape, ndim)
    data = image[..., 0] if image.shape[-1] == 1 else np.moveaxis(image, -1, ndim - 2)
    with atomic_path(Path(path)) as tmp:
        tifffile.imwrite(tmp, data, imagej=image.dtype in _IMAGEJ_DTYPES,
                         photometric="minisblack", metadata={"axes": axes})


@contextlib.contextmanager
def image_on_disk(path: Path, shape: tuple[int, ...], dtype: np.dtype | type, ndim: int
                  ) -> Iterator[np.ndarray]:
    """Create a TIFF file as :func:`write_image` would and yield it as a writable
    channel-last memory map; the file appears under ``path`` only when the block ends
    without an error (written under a temporary name, flushed, renamed)."""
    stored, axes = _layout(tuple(shape), ndim)
    path = Path(path)
    with naming(path):
        tmp = temporary_name(path)
    try:
        with naming(path):
            array = tifffile.memmap(tmp, shape=stored, dtype=dtype, photometric="minisblack",
                                    imagej=np.dtype(dtype) in _IMAGEJ_DTYPES,
                                    metadata={"axes": axes})
        yield _stored(array, ndim)
        with naming(path):
            array.flush()
            del array
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
