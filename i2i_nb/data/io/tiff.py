"""TIFF images: read (memory-mapped where possible) and written with ImageJ metadata.

Pixel sizes come from ImageJ's metadata (``spacing``, ``unit``, the resolution tags) or OME
XML (``PhysicalSize*``); they are written back as ImageJ metadata, which Fiji shows and
tifffile, napari and BioFormats read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import tifffile

from i2i_nb.data.io.axes import spatial_axes
from i2i_nb.data.io.common import disk_array
from i2i_nb.data.io.metadata import PixelSize, short_unit
from i2i_nb.errors import DataError
from i2i_nb.files import atomic_path, naming, temporary_name

TIFF_SUFFIXES = (".tif", ".tiff")
_IMAGEJ_DTYPES = (np.uint8, np.uint16, np.float32)


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


def _resolution(page: tifffile.TiffPage, tag: str) -> float | None:
    """Pixel size from a resolution tag (pixels per unit), None when absent or zero."""
    value = page.tags.get(tag)
    if value is None:
        return None
    numerator, denominator = value.value
    return denominator / numerator if numerator else None


def _ome_size(tif: tifffile.TiffFile, letters: str) -> PixelSize | None:
    """``PhysicalSize{Z,Y,X}`` (and units, default micrometer) of the first OME image."""
    try:
        image = tifffile.xml2dict(tif.ome_metadata)["OME"]["Image"]
        pixels = (image[0] if isinstance(image, list) else image)["Pixels"]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if not any(f"PhysicalSize{a}" in pixels for a in letters):
        return None
    return PixelSize.of([float(pixels.get(f"PhysicalSize{a}", 1.0)) for a in letters],
                        [str(pixels.get(f"PhysicalSize{a}Unit", "µm")) for a in letters])


def tiff_pixel_size(tif: tifffile.TiffFile, ndim: int) -> PixelSize:
    """Pixel sizes of a TIFF: OME XML, else ImageJ ``spacing``/``unit`` and the resolution
    tags; size 1 and no unit where the file says nothing."""
    letters = spatial_axes(ndim)
    if tif.is_ome:
        found = _ome_size(tif, letters)
        if found is not None:
            return found
    page = tif.pages[0]
    y, x = _resolution(page, "YResolution"), _resolution(page, "XResolution")
    imagej = tif.imagej_metadata or {}
    unit = str(imagej.get("unit", "")).replace("\\u00B5", "µ")
    if not unit and page.tags.get("ResolutionUnit") is not None:
        unit = {2: "inch", 3: "cm"}.get(int(page.tags["ResolutionUnit"].value), "")
        if unit == "inch":  # the TIFF default for a scanner's dpi: no physical pixel size
            unit, y, x = "", None, None
    sizes = [y or 1.0, x or 1.0]
    if ndim == 3:
        sizes.insert(0, float(imagej.get("spacing", 1.0)))
    return PixelSize.of(sizes, unit if unit != "pixel" else "")


def read_tiff_pixel_size(path: Path, ndim: int) -> PixelSize:
    """Only the pixel sizes of a TIFF (its pixels are not read)."""
    with tifffile.TiffFile(path) as tif:
        return tiff_pixel_size(tif, ndim)


def _warn_extra_pages(path: Path, tif: tifffile.TiffFile, series: tifffile.TiffPageSeries,
                      extra: int) -> None:
    """Say that pages outside the first series (another image in the same file) are not read."""
    others = ", ".join(f"{s.shape} {s.dtype}" for s in tif.series[1:4])
    warnings.warn(f"{path}: the file holds {len(tif.pages)} pages; only the first image, "
                  f"{len(series.pages)} page(s) of shape {series.shape}, is read and "
                  f"{extra} other page(s) are ignored" + (f" (other images: {others})"
                                                          if others else "")
                  + "; save each image in its own file, or all planes as one stack",
                  stacklevel=5)


def read_tiff(path: Path, ndim: int, memmap: bool = False
              ) -> tuple[np.ndarray, str, PixelSize]:
    """Read the first series of a TIFF; return the array, the axes tifffile found and the
    pixel sizes."""
    log = logging.getLogger("tifffile")
    errors = _ErrorRecords()
    log.addHandler(errors)
    try:
        with tifffile.TiffFile(path) as tif:
            if not tif.series:
                raise DataError(f"{path}: the TIFF file holds no image")
            series = tif.series[0]
            array, file_axes = _read_series(path, series, memmap), series.axes
            size = tiff_pixel_size(tif, ndim)
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
    return array, file_axes, size


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


def _tiff_options(dtype: np.dtype | type, axes: str, ndim: int, pixel_size: PixelSize | None
                  ) -> dict:
    """``tifffile.imwrite`` options: ImageJ-compatible where the dtype allows, with the pixel
    sizes as resolution tags and ImageJ ``spacing``/``unit``."""
    metadata: dict = {"axes": axes}
    options: dict = {"photometric": "minisblack", "imagej": np.dtype(dtype) in _IMAGEJ_DTYPES}
    if pixel_size is not None and pixel_size.known:
        sizes = pixel_size.sizes
        options["resolution"] = (1.0 / sizes[-1], 1.0 / sizes[-2])
        if ndim == 3:
            metadata["spacing"] = sizes[0]
        if pixel_size.unit:
            metadata["unit"] = short_unit(pixel_size.unit)
    options["metadata"] = metadata
    return options


def write_tiff(path: Path, image: np.ndarray, ndim: int, pixel_size: PixelSize | None = None
               ) -> None:
    """Write a channel-last image as a TIFF file, atomically.

    The file is ImageJ-compatible (axes ``YX``, ``CYX``, ``ZYX`` or ``ZCYX``) for uint8, uint16
    and float32; other dtypes are written with tifffile's own axes metadata. A single channel
    is stored without a channel axis. ``pixel_size`` is written as the resolution tags and
    ImageJ's ``spacing`` and ``unit`` (what Fiji shows). Parent folders are created; the file
    is written under a temporary name and renamed, so it is never seen half-written.
    """
    _, axes = _layout(image.shape, ndim)
    data = image[..., 0] if image.shape[-1] == 1 else np.moveaxis(image, -1, ndim - 2)
    with atomic_path(Path(path)) as tmp:
        tifffile.imwrite(tmp, data, **_tiff_options(image.dtype, axes, ndim, pixel_size))


@contextlib.contextmanager
def tiff_on_disk(path: Path, shape: tuple[int, ...], dtype: np.dtype | type, ndim: int,
                 pixel_size: PixelSize | None = None) -> Iterator[np.ndarray]:
    """Create a TIFF file as :func:`write_tiff` would and yield it as a writable
    channel-last memory map; the file appears under ``path`` only when the block ends
    without an error (written under a temporary name, flushed, renamed)."""
    stored, axes = _layout(tuple(shape), ndim)
    path = Path(path)
    with naming(path):
        tmp = temporary_name(path)
    try:
        with naming(path):
            array = tifffile.memmap(tmp, shape=stored, dtype=dtype,
                                    **_tiff_options(dtype, axes, ndim, pixel_size))
        yield _stored(array, ndim)
        with naming(path):
            array.flush()
            del array
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
