"""Small datasets in every supported format, made from the TIFF pairs of ``write_pairs``."""

from pathlib import Path

import h5py
import numpy as np
import tifffile
import zarr

from i2i_nb.data.io import PixelSize, write_image

SIZE = PixelSize.of([0.4, 0.2], "um")
SIZE_3D = PixelSize.of([2.0, 0.4, 0.2], "um")


def convert(root: Path, fmt: str, ndim: int = 2) -> Path:
    """Copy ``root/{train,test}/{x,y}/*.tif`` into ``<root>_<fmt>`` as ``ome`` (OME-Zarr 0.4
    with pixel sizes), ``zarr3`` (plain Zarr v3 arrays, stored channel-first ``C...``) or
    ``h5`` (one dataset ``data`` per HDF5 file)."""
    out = root.parent / f"{root.name}_{fmt}"
    for tif in sorted(root.glob("*/*/*.tif")):
        image = tifffile.imread(tif)
        image = image[..., np.newaxis] if image.ndim == ndim else image
        folder = out / tif.parent.relative_to(root)
        folder.mkdir(parents=True, exist_ok=True)
        if fmt == "ome":
            write_image(folder / f"{tif.stem}.ome.zarr", image, ndim,
                        SIZE if ndim == 2 else SIZE_3D)
        elif fmt == "zarr3":
            zarr.save_array(str(folder / f"{tif.stem}.zarr"), np.moveaxis(image, -1, 0),
                            zarr_format=3)
        elif fmt == "h5":
            with h5py.File(folder / f"{tif.stem}.h5", "w") as handle:
                handle["data"] = image[..., 0]
        else:
            raise ValueError(fmt)
    return out
