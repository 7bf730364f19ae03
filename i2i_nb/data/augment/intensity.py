"""Intensity augmentations of the input (BiaPy applies none of these to the target).

Arrays are channel-last float ``(y, x, c)`` or ``(z, y, x, c)``; in-plane filters act on
the last two spatial axes, so 2D and 3D share every line. Noise comes from
``skimage.util.random_noise`` with the patch's generator; unlike BiaPy, no result is
clipped to [0, 1] (normalised inputs may exceed 1, which clipping would change).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from skimage.util import random_noise


def brightness(x: np.ndarray, rng: np.random.Generator, factor: Sequence[float]) -> np.ndarray:
    """Add a value drawn from ``factor`` (BRIGHTNESS_FACTOR)."""
    return x + np.float32(rng.uniform(min(factor), max(factor)))


def contrast(x: np.ndarray, rng: np.random.Generator, factor: Sequence[float]) -> np.ndarray:
    """Multiply by one plus a value drawn from ``factor`` (CONTRAST_FACTOR)."""
    return x * np.float32(1.0 + rng.uniform(min(factor), max(factor)))


def gamma_contrast(x: np.ndarray, rng: np.random.Generator, gamma: Sequence[float]
                   ) -> np.ndarray:
    """Clip to [0, 1] and raise to a power drawn from ``gamma`` (GC_GAMMA), as BiaPy."""
    return np.clip(x, 0.0, 1.0) ** np.float32(rng.uniform(*gamma))


def gaussian_noise(x: np.ndarray, rng: np.random.Generator, mean: float, var: float,
                   from_image: bool) -> np.ndarray:
    """Add Gaussian noise of ``mean`` and ``var``, or (``from_image``) of the patch's own
    mean and variance times a factor in [0.9, 1.1]."""
    if from_image:
        mean, var = float(x.mean()), float(x.var()) * rng.uniform(0.9, 1.1)
    return random_noise(x, mode="gaussian", rng=rng, clip=False, mean=mean, var=var)


def poisson_noise(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Poisson noise as skimage draws it (counts of the image times the number of distinct
    values rounded up to a power of 2), measured from the patch's minimum when that is
    negative (where skimage fails below -1)."""
    levels = 2.0 ** np.ceil(np.log2(max(2, len(np.unique(x)))))
    low = min(float(x.min()), 0.0)
    return (rng.poisson((x - low) * levels) / levels + low).astype(x.dtype)


def salt_pepper(x: np.ndarray, rng: np.random.Generator, mode: str, amount: float,
                salt_vs_pepper: float = 0.5) -> np.ndarray:
    """Replace a fraction ``amount`` of the voxels by 1 (salt), 0 or -1 for inputs with
    negative values (pepper), or both (``mode`` 's&p', ``salt_vs_pepper`` of them salt)."""
    extra = {"salt_vs_pepper": salt_vs_pepper} if mode == "s&p" else {}
    return random_noise(x, mode=mode, rng=rng, clip=False, amount=amount, **extra)


def gaussian_blur(x: np.ndarray, rng: np.random.Generator, sigma: Sequence[float]
                  ) -> np.ndarray:
    """Gaussian blur of every spatial axis (not across channels), sigma from ``G_SIGMA``."""
    s = rng.uniform(*sigma)
    return ndimage.gaussian_filter(x, (s,) * (x.ndim - 1) + (0,))


def _odd(rng: np.random.Generator, k_range: Sequence[int]) -> int:
    k = int(rng.integers(k_range[0], k_range[1] + 1))
    return k + 1 if k % 2 == 0 else k


def _plane(kernel: np.ndarray, ndim: int) -> np.ndarray:
    """An in-plane (y, x) kernel as a kernel of a channel-last array of ``ndim`` axes."""
    return kernel.reshape((1,) * (ndim - 3) + kernel.shape + (1,))


def median_blur(x: np.ndarray, rng: np.random.Generator, k_range: Sequence[int]
                ) -> np.ndarray:
    """In-plane median filter of an odd size drawn from ``MB_KERNEL``."""
    k = _odd(rng, k_range)
    return ndimage.median_filter(x, size=_plane(np.ones((k, k)), x.ndim).shape, mode="reflect")


def motion_blur(x: np.ndarray, rng: np.random.Generator, k_range: Sequence[int]
                ) -> np.ndarray:
    """BiaPy's motion blur: an in-plane line kernel (odd size from ``MOTB_K_RANGE``) with a
    linear weight ramp, turned by a random angle."""
    k = _odd(rng, k_range)
    angle, direction = float(rng.integers(0, 360)), rng.uniform(-1.0, 1.0)
    kernel = np.zeros((k, k), np.float32)
    kernel[:, k // 2] = np.linspace(direction, 1.0 - direction, k)
    kernel = ndimage.rotate(kernel, angle, reshape=False, order=1)
    total = kernel.sum()
    if total != 0:
        kernel /= total
    else:
        kernel[:] = 0
        kernel[k // 2, k // 2] = 1.0
    return ndimage.convolve(x, _plane(kernel, x.ndim), mode="mirror")


def dropout(x: np.ndarray, rng: np.random.Generator, drop_range: Sequence[float]
            ) -> np.ndarray:
    """Set voxels (all channels of each) to zero with a probability from ``DROP_RANGE``."""
    p = rng.uniform(*drop_range)
    return x * (rng.random(x.shape[:-1]) >= p)[..., None].astype(x.dtype)


def grayscale(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each of the 3 (RGB) channels replaced by their mean."""
    return np.repeat(x.mean(axis=-1, keepdims=True), x.shape[-1], axis=-1)


def channel_shuffle(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The channels in a random order."""
    return x[..., rng.permutation(x.shape[-1])]
