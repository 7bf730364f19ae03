"""Geometric augmentations: one transform of input and target together.

Input and target are stacked along the channel axis and moved by one call, so they stay
aligned to the voxel. Interpolation is linear for both (BiaPy interpolates the input
cubically in some of these and the target linearly, which shifts them apart slightly).
Arrays are channel-last, ``(y, x, c)`` or ``(z, y, x, c)``; the (y, x) plane is the last
two spatial axes, so 2D and 3D share every line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

# BiaPy's fill modes (AUGMENTOR.AFFINE_MODE, E_MODE) as scipy.ndimage calls them; BiaPy
# passes 'reflect' to scipy as it is and 'symmetric' as 'mirror'.
SCIPY_MODES = {"constant": "constant", "reflect": "reflect", "symmetric": "mirror",
               "wrap": "grid-wrap", "nearest": "nearest"}


def flip(x: np.ndarray, y: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Reverse spatial ``axis`` (negative: from the last spatial axis) of both arrays."""
    axis = axis % (x.ndim - 1)
    return np.flip(x, axis), np.flip(y, axis)


def rot90(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Turn the (y, x) plane of both arrays by ``k`` quarter turns (a square plane)."""
    plane = (x.ndim - 3, x.ndim - 2)
    return np.rot90(x, k, plane), np.rot90(y, k, plane)


def plane_matrix(ndim: int, angle: float = 0.0, scale: float = 1.0, scale_z: float = 1.0,
                 shear: Sequence[float] = (0.0, 0.0)) -> np.ndarray:
    """The ``(ndim, ndim)`` matrix mapping output to input coordinates: a rotation by
    ``angle`` degrees, shears by ``shear`` degrees (along y, along x) and a zoom by ``scale``
    in the (y, x) plane, a zoom by ``scale_z`` along z (3D)."""
    th = math.radians(angle)
    rotation = np.array([[math.cos(th), math.sin(th)], [-math.sin(th), math.cos(th)]])
    shearing = np.array([[1.0, math.tan(math.radians(shear[0]))],
                         [math.tan(math.radians(shear[1])), 1.0]])
    matrix = np.eye(ndim)
    matrix[-2:, -2:] = shearing @ rotation / scale
    if ndim == 3:
        matrix[0, 0] = 1.0 / scale_z
    return matrix


def warp(x: np.ndarray, y: np.ndarray, matrix: np.ndarray, shift: Sequence[float],
         mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Apply the affine ``matrix`` about the patch centre, then a translation by ``shift``
    voxels, to every channel of both arrays (linear interpolation, ``mode`` fill)."""
    both = np.concatenate([x, y], axis=-1)
    centre = (np.asarray(both.shape[:-1], dtype=np.float64) - 1.0) / 2.0
    offset = centre - matrix @ (centre + np.asarray(shift, dtype=np.float64))
    out = np.empty_like(both)
    for c in range(both.shape[-1]):  # spatial interpolation only: 2**ndim neighbours
        ndimage.affine_transform(both[..., c], matrix, offset=offset, order=1,
                                 mode=SCIPY_MODES[mode], cval=0.0, prefilter=False,
                                 output=out[..., c])
    return out[..., :x.shape[-1]], out[..., x.shape[-1]:]


def elastic(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, alpha: Sequence[float],
            sigma: float, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """BiaPy's elastic deformation: an in-plane displacement field (the same on every z),
    uniform noise in [-1, 1] smoothed by a Gaussian of ``sigma`` and scaled by ``alpha``
    (drawn from its range); computed on a border-padded plane as BiaPy does."""
    strength = rng.uniform(*alpha)
    plane = x.shape[-3:-1]
    pad = int(max(5, (3.3 if sigma < 3 else 2.9 if sigma < 5 else 2.6) * sigma)) | 1
    noise = rng.uniform(-1.0, 1.0, (2, *(s + 2 * pad for s in plane)))
    field = ndimage.gaussian_filter(noise, (0, sigma, sigma))[:, pad:-pad, pad:-pad] * strength
    both = np.concatenate([x, y], axis=-1)
    grid = np.indices(both.shape[:-1], dtype=np.float32)
    grid[-2:] += field.astype(np.float32).reshape(2, *(1,) * (x.ndim - 3), *plane)
    out = np.empty_like(both)
    for c in range(both.shape[-1]):
        out[..., c] = ndimage.map_coordinates(both[..., c], grid, order=1,
                                              mode=SCIPY_MODES[mode], prefilter=False)
    return out[..., :x.shape[-1]], out[..., x.shape[-1]:]


def misalignment(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, displacement: int,
                 rotate_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Sections (rows in 2D, z-slices in 3D) from a random one onwards (in 3D, half of the
    time, that one section alone: a slip) moved against the rest, as by a mis-registered
    cut: rotated (probability ``rotate_ratio``) by up to BiaPy's angle for ``displacement``
    voxels, else translated by fewer than ``displacement`` voxels; zeros fill the gaps."""
    both = np.concatenate([x, y], axis=-1)
    ndim = both.ndim - 1
    n = both.shape[0]
    start = int(rng.integers(1, n - 1)) if n >= 3 else 0
    slip = ndim == 3 and rng.random() < 0.5
    part = slice(start, start + 1) if slip else slice(start, n)
    block = both[part]
    if rng.random() < rotate_ratio:
        height = both.shape[-3]
        ratio = min(1.0, (displacement / 2.0) / max(1e-6, (height - displacement) / 2.0 * 1.42))
        limit = math.degrees(math.asin(ratio)) * 2.0
        matrix, shift = plane_matrix(ndim, angle=rng.uniform(-limit, limit)), np.zeros(ndim)
    else:
        matrix = np.eye(ndim)
        moved = range(1, ndim) if ndim == 2 else range(ndim - 2, ndim)
        shift = np.zeros(ndim)
        for axis in moved:
            shift[axis] = int(rng.integers(-displacement + 1, displacement))
    bx, by = warp(block[..., :x.shape[-1]], block[..., x.shape[-1]:], matrix, shift,
                  "constant")
    both = both.copy()
    both[part] = np.concatenate([bx, by], axis=-1)
    return both[..., :x.shape[-1]], both[..., x.shape[-1]:]
