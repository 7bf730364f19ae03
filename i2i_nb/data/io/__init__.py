"""Image I/O: TIFF, Zarr/OME-Zarr and HDF5 read as channel-last arrays, with pixel sizes.

In memory an image is ``(y, x, c)`` in 2D and ``(z, y, x, c)`` in 3D, in the file's own
dtype. ``tiff``, ``zarr`` and ``hdf5`` hold one format each, ``axes`` the axis orders,
``metadata`` the pixel sizes, ``image`` the entry points used by the rest of the package.
"""

from i2i_nb.data.io.axes import AXES_LETTERS, MAX_CHANNELS, AxesOrder, spatial_axes
from i2i_nb.data.io.common import disk_array, dtype_max, slab_ranges, slabs, temporary_path
from i2i_nb.data.io.image import (
    IMAGE_SUFFIXES,
    DiskImage,
    container_members,
    image_on_disk,
    is_image_path,
    is_zarr_path,
    read_image,
    read_pixel_size,
    split_container,
    write_image,
)
from i2i_nb.data.io.metadata import PixelSize
from i2i_nb.data.io.tiff import TIFF_SUFFIXES

__all__ = [
    "AXES_LETTERS",
    "IMAGE_SUFFIXES",
    "MAX_CHANNELS",
    "TIFF_SUFFIXES",
    "AxesOrder",
    "DiskImage",
    "PixelSize",
    "container_members",
    "disk_array",
    "dtype_max",
    "image_on_disk",
    "is_image_path",
    "is_zarr_path",
    "read_image",
    "read_pixel_size",
    "slab_ranges",
    "slabs",
    "spatial_axes",
    "split_container",
    "temporary_path",
    "write_image",
]
