"""Augmentations of boxes and masks of a patch (BiaPy's CUT*, GRIDMASK, MISSING_SECTIONS).

Box sizes are fractions of the (y, x) plane; in 3D a box spans a z range of the same
fraction (CUTOUT, CUTNOISE) or every z (CUTBLUR, CUTMIX), as in BiaPy. Arrays are
channel-last; only CUTOUT (``COUT_APPLY_TO_MASK``) and CUTMIX change the target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from skimage.draw import line
from skimage.transform import resize


def _box(rng: np.random.Generator, shape: Sequence[int], frac: float, all_z: bool,
         scale: Sequence[float] = ()) -> tuple[slice, ...]:
    """A random box of ``frac`` of each spatial size (the whole z range when ``all_z``),
    times ``scale`` per axis when given."""
    box = []
    for axis, size in enumerate(shape):
        if all_z and axis < len(shape) - 2:
            box.append(slice(None))
            continue
        length = max(1, min(size, round(size * frac * (scale[axis] if scale else 1.0))))
        start = int(rng.integers(0, size - length + 1))
        box.append(slice(start, start + length))
    return tuple(box)


def cutout(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, iterations: Sequence[int],
           size: Sequence[float], cval: float, to_target: bool, scale: Sequence[float] = ()
           ) -> tuple[np.ndarray, np.ndarray]:
    """Fill 1 to 3 (``COUT_NB_ITERATIONS``) boxes of the input with ``cval``, and of the
    target with 0 when ``to_target`` (``COUT_APPLY_TO_MASK``); ``scale`` (per spatial axis,
    from ``DATA.TRAIN.RESOLUTION``: x's voxel size over the axis's) shrinks the box along
    coarser axes so that it covers the same physical extent, as BiaPy."""
    x = x.copy()
    y = y.copy() if to_target else y
    for _ in range(int(rng.integers(iterations[0], iterations[1] + 1))):
        box = _box(rng, x.shape[:-1], rng.uniform(*size), all_z=False, scale=scale)
        x[box] = cval
        if to_target:
            y[box] = 0
    return x, y


def cutblur(x: np.ndarray, rng: np.random.Generator, size: Sequence[float],
            down: Sequence[int], inside: bool) -> np.ndarray:
    """A box down-sampled in-plane by a factor from ``CBLUR_DOWN_RANGE`` and blown up again
    (nearest); when not ``inside`` (``CBLUR_INSIDE`` False), half of the time the rest of
    the patch instead."""
    box = _box(rng, x.shape[:-1], rng.uniform(*size), all_z=True)
    factor = int(rng.integers(down[0], down[1] + 1))
    outside = not inside and rng.random() >= 0.5

    def low(a: np.ndarray) -> np.ndarray:
        small = [*a.shape[:-3], *(max(1, s // factor) for s in a.shape[-3:-1]), a.shape[-1]]
        shrunk = resize(a, small, order=1, mode="reflect", anti_aliasing=True)
        return resize(shrunk, a.shape, order=0, mode="edge", anti_aliasing=False
                      ).astype(a.dtype)

    if outside:
        out = low(x)
        out[box] = x[box]
        return out
    out = x.copy()
    out[box] = low(x[box])
    return out


def cutmix(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, donor: tuple[np.ndarray,
           np.ndarray], size: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """A box of another patch (``donor``, input and target) pasted at a random place, in the
    input and at the same place in the target."""
    frac = rng.uniform(*size)
    to, src = (_box(rng, x.shape[:-1], frac, all_z=True) for _ in range(2))
    x, y = x.copy(), y.copy()
    x[to], y[to] = donor[0][src], donor[1][src]
    return x, y


def cutnoise(x: np.ndarray, rng: np.random.Generator, scale: Sequence[float],
             iterations: Sequence[int], size: Sequence[float]) -> np.ndarray:
    """Gaussian noise (std a fraction ``CNOISE_SCALE`` of the patch maximum, the same on
    every channel) added to 1 to 3 (``CNOISE_NB_ITERATIONS``) boxes."""
    out = x.copy()
    top = float(x.max())
    for _ in range(int(rng.integers(iterations[0], iterations[1] + 1))):
        box = _box(rng, x.shape[:-1], rng.uniform(*size), all_z=False)
        amp = rng.uniform(*scale) * top
        shape = [s.stop - s.start for s in box]
        out[box] += rng.normal(0.0, amp, shape)[..., None].astype(x.dtype)
    return out


def gridmask(x: np.ndarray, rng: np.random.Generator, ratio: float, d_range: Sequence[float],
             rotate: float, invert: bool) -> np.ndarray:
    """GridMask (Chen et al. 2020), as BiaPy draws it: stripes of width ``ratio`` of a
    period ``d`` (from ``GRID_D_RANGE`` times the plane size) along y and x, turned by up to
    ``GRID_ROTATE`` of a full turn; the input is kept on the stripes and zeroed between them
    (the reverse when ``invert``). In 3D, on a z range of ``GRID_D_RANGE`` of the depth."""
    h, w = x.shape[-3:-1]
    d = int(rng.integers(int(h * d_range[0]), max(int(h * d_range[0]) + 1, int(w * d_range[1]))))
    d = max(d, 2)
    width = math.ceil(d * ratio)
    start_y, start_x = int(rng.integers(d)), int(rng.integers(d))
    angle = math.radians(int(rng.integers(max(1, round(rotate * 360)))))
    yy, xx = np.mgrid[:h, :w].astype(np.float64)
    yy, xx = yy - (h - 1) / 2, xx - (w - 1) / 2
    canvas = math.ceil(math.hypot(h, w)) / 2
    ry = math.cos(angle) * yy - math.sin(angle) * xx + canvas
    rx = math.sin(angle) * yy + math.cos(angle) * xx + canvas
    keep = ((ry - start_y) % d < width) | ((rx - start_x) % d < width)
    mask = (~keep if invert else keep).astype(x.dtype)[..., None]
    if x.ndim == 3:
        return x * mask
    depth = x.shape[0]
    low = max(1, int(depth * d_range[0]))
    block = min(depth, int(rng.integers(low, max(low, int(depth * d_range[1])) + 1)))
    z0 = int(rng.integers(0, depth - block + 1))
    out = x.copy()
    out[z0:z0 + block] *= mask
    return out


def missing_sections(x: np.ndarray, rng: np.random.Generator, iterations: Sequence[int],
                     channel_pb: float) -> np.ndarray:
    """BiaPy's missing sections: in a plane (each channel in 2D; each z-slice of each channel
    in 3D, with probability ``MISSP_CHANNEL_PB``, skipping the next two after a hit), a line
    across the plane, thickened by ``MISSP_ITERATIONS`` dilations, set to the plane's mean."""
    out = np.moveaxis(x.copy(), -1, 0)
    stacks = out[None] if x.ndim == 3 else out  # (groups, sections, h, w)
    h, w = x.shape[-3:-1]
    if h < 3 or w < 3:
        return x
    dilations = int(rng.integers(iterations[0], max(iterations[0] + 1, iterations[1])))
    for stack in stacks:
        i = 0
        while i < len(stack):
            if rng.random() < channel_pb:
                band = np.zeros((h, w), bool)
                if rng.random() < 0.5:
                    a, b = rng.integers(1, w - 1, size=2)
                    rr, cc = line(0, int(a), h - 1, int(b))
                else:
                    a, b = rng.integers(1, h - 1, size=2)
                    rr, cc = line(int(a), 0, int(b), w - 1)
                band[rr, cc] = True
                band = ndimage.binary_dilation(band, iterations=dilations)
                stack[i][band] = stack[i].mean()
                i += 2
            i += 1
    return np.moveaxis(out, 0, -1)
