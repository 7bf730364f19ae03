"""The run record: versions, seed, device and every data file with size and checksum."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from i2i_nb.files import write_text

PACKAGES = ("i2i-nb", "torch", "numpy", "tifffile", "zarr", "h5py", "scikit-image", "pyyaml",
            "pytorch-msssim")


def sha256(path: Path, block: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def versions() -> dict[str, str]:
    """Python's and each dependency's installed version."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def write_record(path: Path, files: Iterable[Path], extra: dict[str, Any]) -> None:
    """Write ``path`` (JSON) with versions, ``extra`` (seed, device...) and the data files."""
    record = {
        "versions": versions(),
        **extra,
        "data_files": [{"path": str(f.absolute()), "bytes": f.stat().st_size,
                        "sha256": sha256(f)} for f in sorted(set(files))],
    }
    write_text(path, json.dumps(record, indent=1))
