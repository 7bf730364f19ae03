"""Helpers shared by the formats: dtype ranges, temporary files and block-wise reading."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np


def dtype_max(dtype: np.dtype | type) -> float | None:
    """Largest value of an integer dtype (``uint8`` 255, ``uint16`` 65535, ...); None for floats."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return 1.0
    if np.issubdtype(dtype, np.integer):
        return float(np.iinfo(dtype).max)
    return None


def slab_ranges(image: np.ndarray, max_bytes: int = 64 << 20, multiple: int = 1
                ) -> Iterator[slice]:
    """Consecutive ranges of ``image``'s first axis, each of about ``max_bytes`` or less and a
    whole ``multiple`` of planes (one at least; the last may be shorter)."""
    plane = int(np.prod(image.shape[1:])) * np.dtype(image.dtype).itemsize
    planes = max_bytes // max(1, plane)
    step = max(multiple, planes // multiple * multiple)
    for start in range(0, image.shape[0], step):
        yield slice(start, start + step)


def slabs(image: np.ndarray, max_bytes: int = 64 << 20, multiple: int = 1
          ) -> Iterator[np.ndarray]:
    """The blocks of :func:`slab_ranges`, in memory: an image on disk (memory map, Zarr,
    HDF5) is read a block at a time."""
    for block in slab_ranges(image, max_bytes, multiple):
        yield np.asarray(image[block])


def disk_array(shape: tuple[int, ...], dtype: np.dtype | type, folder: Path | None = None
               ) -> np.memmap:
    """A writable array in an unlinked temporary file (in ``folder``, default the system's
    temporary folder), deleted when the array is released."""
    with tempfile.TemporaryFile(prefix="i2i_nb-", dir=folder) as handle:
        return np.memmap(handle, dtype=dtype, mode="w+", shape=shape)


def temporary_path(path: Path) -> Path:
    """A hidden name beside ``path`` to write to before renaming (parents created)."""
    # not tempfile.mkstemp: its files are private (0600); this one gets the umask's permissions
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
