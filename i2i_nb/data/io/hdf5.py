"""HDF5 images through h5py: a dataset of a file, named by its key (BiaPy's
``INPUT_ZARR_MULTIPLE_DATA_RAW_PATH`` style, ``volumes/raw`` or ``volumes.raw``).

The file is opened read-only on first use in each process (an h5py handle must not cross
a ``fork``), and pickling keeps only the file name and key.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from i2i_nb.errors import DataError

HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf")


def _open(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path}: cannot open this HDF5 file ({exc})") from exc


def members(path: Path) -> list[str]:
    """Names of the datasets at the top of an HDF5 file, sorted."""
    with _open(path) as handle:
        return sorted(name for name, item in handle.items() if isinstance(item, h5py.Dataset))


def resolve_key(path: Path, key: str) -> str:
    """The dataset's key: ``key`` (dots read as ``/`` when no such key exists), else the
    file's only dataset."""
    with _open(path) as handle:
        if key:
            for candidate in (key, key.replace(".", "/")):
                if isinstance(handle.get(candidate), h5py.Dataset):
                    return candidate
            raise DataError(f"{path}: no dataset {key!r} in this HDF5 file")
        names = [n for n, item in handle.items() if isinstance(item, h5py.Dataset)]
    if len(names) != 1:
        found = f"the datasets {', '.join(sorted(names)[:5])}" if names else "no dataset"
        raise DataError(f"{path}: the HDF5 file holds {found} at its top; point the path at "
                        "the file itself to use each, or name one with "
                        "INPUT_ZARR_MULTIPLE_DATA_RAW_PATH")
    return names[0]


class H5Dataset:
    """A read-only HDF5 dataset reopened per process; slicing returns numpy arrays."""

    def __init__(self, path: Path, key: str = "") -> None:
        self.path = Path(path)
        self.key = resolve_key(self.path, key)
        self._pid, self._file = -1, None
        dataset = self._dataset()
        self.shape: tuple[int, ...] = tuple(dataset.shape)
        self.dtype = np.dtype(dataset.dtype)
        self.axes = str(dataset.attrs.get("axes", "")) if "axes" in dataset.attrs else ""

    def _dataset(self) -> h5py.Dataset:
        if self._pid != os.getpid():
            self._file, self._pid = _open(self.path), os.getpid()
        return self._file[self.key]

    @property
    def ndim(self) -> int:
        """Stored dimensions."""
        return len(self.shape)

    def __getitem__(self, key: tuple) -> np.ndarray:
        return np.asarray(self._dataset()[key])

    def __reduce__(self) -> tuple:
        return H5Dataset, (self.path, self.key)
