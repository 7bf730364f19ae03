"""Random training patches and fixed validation patches from paired channel-last images.

Images may be normalised arrays in memory, or raw images left on disk
(:class:`~i2i_nb.data.io.DiskImage`) with a normalisation applied to each crop.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from i2i_nb.data.augment import Augment, draw_grid
from i2i_nb.data.io import slabs
from i2i_nb.data.normalize import channel_values

Transform = Callable[[np.ndarray], np.ndarray]
FOREGROUND_LEVEL = 0.4  # of the way from the median to the 99.9th percentile


def pad_to_min(image: np.ndarray, min_shape: Sequence[int]) -> np.ndarray:
    """Pad the spatial axes of a channel-last image up to ``min_shape``, centred.

    Reflect padding (repeated as needed); an axis of size 1 is padded by repeating its edge.
    Returns the image itself when no axis is too small.
    """
    spatial = image.shape[:-1]
    if len(min_shape) != len(spatial):
        raise ValueError(f"min_shape {tuple(min_shape)} does not fit image shape {image.shape}")
    if all(s >= m for s, m in zip(spatial, min_shape, strict=True)):
        return image
    image = np.asarray(image)
    for axis, (size, minimum) in enumerate(zip(spatial, min_shape, strict=True)):
        missing = max(0, minimum - size)
        if missing:
            widths = [(0, 0)] * image.ndim
            widths[axis] = (missing // 2, missing - missing // 2)
            image = np.pad(image, widths, mode="reflect" if size > 1 else "edge")
    return image


def foreground_blocks(target: np.ndarray, block: Sequence[int], samples: int = 200_000
                      ) -> np.ndarray:
    """Corners ``(k, ndim)`` of the blocks of ``target`` that hold foreground.

    A block holds foreground when, in any channel, its maximum exceeds the median by
    ``FOREGROUND_LEVEL`` of the way to the 99.9th percentile (statistics from ``samples``
    positions).  An affine normalisation does not change the answer, so raw images are
    used as they are; a memory-mapped image is read one band of blocks at a time.
    """
    values = channel_values(target, samples).astype(np.float64)
    median, top = np.percentile(values, [50.0, 99.9], axis=0)
    level = median + FOREGROUND_LEVEL * (top - median)
    if not np.any(top > median):
        return np.zeros((0, len(block)), dtype=np.int64)
    found = []
    start = 0
    for band in slabs(target, multiple=block[0]):
        maxima = band
        for axis, size in enumerate(block):
            maxima = np.maximum.reduceat(maxima, np.arange(0, maxima.shape[axis], size), axis)
        corners = np.argwhere((maxima > level).any(axis=-1)) * np.asarray(block)
        corners[:, 0] += start
        found.append(corners)
        start += band.shape[0]
    return np.concatenate(found).astype(np.int64)


def _prepare(pairs: Sequence[tuple[np.ndarray, np.ndarray]], patch_size: Sequence[int]
             ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Check spatial shapes and pad images smaller than the patch."""
    if not pairs:
        raise ValueError("no image pairs to take patches from")
    padded = []
    for index, (x, y) in enumerate(pairs):
        if x.shape[:-1] != y.shape[:-1]:
            raise ValueError(f"pair {index}: input spatial shape {x.shape[:-1]} differs from "
                             f"target {y.shape[:-1]}")
        padded.append((pad_to_min(x, patch_size), pad_to_min(y, patch_size)))
    return padded


def _crop(x: np.ndarray, y: np.ndarray, patch_size: Sequence[int],
          rng: np.random.Generator | None, starts: Sequence[int] | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """A patch at ``starts`` (default: a random position), same place in x and y."""
    if starts is None:
        starts = [int(rng.integers(0, s - p + 1))
                  for s, p in zip(x.shape[:-1], patch_size, strict=True)]
    window = tuple(slice(a, a + p) for a, p in zip(starts, patch_size, strict=True))
    return x[window], y[window]


def _tensor(image: np.ndarray) -> torch.Tensor:
    """Channel-last array to a channel-first float32 tensor (a copy)."""
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(image, -1, 0), dtype=np.float32))


@dataclass
class AugmentedSample:
    """A training patch before (``x``, ``y``) and after augmentation, and the keys of the
    augmentations applied."""

    x: np.ndarray
    y: np.ndarray
    aug_x: np.ndarray
    aug_y: np.ndarray
    applied: list[str]


class PatchDataset(Dataset):
    """Random patches from random images, reproducible whatever the number of workers.

    Item ``i`` of epoch ``e`` is drawn with ``np.random.default_rng([seed, e, i])``: an image
    chosen with probability proportional to its voxel count, a position, then ``augment``
    (with a second, uniformly placed patch for CUTMIX). With probability ``foreground`` the
    position is drawn so that the patch holds a whole block of the target's foreground
    (:func:`foreground_blocks`, blocks of half a patch), otherwise uniformly; an image
    without foreground is always sampled uniformly.
    Call :meth:`set_epoch` before each epoch (with ``persistent_workers=False`` so that
    workers see it).

    Parameters
    ----------
    pairs : sequence of (numpy.ndarray, numpy.ndarray)
        Channel-last input and target of the same spatial shape: normalised float32
        arrays, or raw images (e.g. :class:`~i2i_nb.data.io.DiskImage`) with ``transforms``.
    patch_size : sequence of int
        Spatial patch shape, ``(y, x)`` or ``(z, y, x)``.
    samples_per_epoch : int
        Length of the dataset.
    augment : Augment, optional
        Augmentation, or None.
    seed : int
        Non-negative seed.
    transforms : sequence of (callable, callable), optional
        Per pair, the normalisation of an input crop and of a target crop.
    foreground : float
        Share of patches drawn to hold foreground, 0 to 1.
    """

    def __init__(self, pairs: Sequence[tuple[np.ndarray, np.ndarray]], patch_size: Sequence[int],
                 samples_per_epoch: int, augment: Augment | None, seed: int,
                 transforms: Sequence[tuple[Transform, Transform]] | None = None,
                 foreground: float = 0.0) -> None:
        self.pairs = _prepare(pairs, patch_size)
        self.patch_size = tuple(patch_size)
        self.samples_per_epoch = samples_per_epoch
        self.augment = augment
        self.seed = seed
        self.transforms = transforms
        self.foreground = foreground
        self.epoch = 0
        voxels = np.array([np.prod(x.shape[:-1], dtype=np.float64) for x, _ in self.pairs])
        self.weights = voxels / voxels.sum()
        # Generator.choice(p=weights) draws searchsorted(cdf, random()) with this cdf: the
        # same image from the same stream, without choice's per-call checks (~10 us)
        self._cdf = np.cumsum(self.weights)
        self._cdf /= self._cdf[-1]
        self.block = tuple(max(1, p // 2) for p in self.patch_size)
        self.blocks = [foreground_blocks(y, self.block) if foreground > 0 else None
                       for _, y in self.pairs]

    @property
    def foreground_share(self) -> float:
        """The share of the training area in foreground blocks (NaN when not sampled)."""
        if self.foreground <= 0:
            return float("nan")
        total = sum(int(np.prod([-(-s // b) for s, b in zip(x.shape[:-1], self.block,
                                                             strict=True)]))
                    for x, _ in self.pairs)
        return sum(len(b) for b in self.blocks) / total

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose patches are drawn."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.samples_per_epoch

    def _foreground_starts(self, k: int, shape: Sequence[int], rng: np.random.Generator
                           ) -> list[int] | None:
        """Corner of a patch holding the whole of a random foreground block, or None."""
        blocks = self.blocks[k]
        if blocks is None or not len(blocks) or rng.random() >= self.foreground:
            return None
        corner = blocks[int(rng.integers(len(blocks)))]
        starts = []
        for c, b, s, p in zip(corner, self.block, shape, self.patch_size, strict=True):
            start = int(rng.integers(c + min(b, s - c) - p, c + 1))
            starts.append(min(max(0, start), s - p))
        return starts

    def _patch(self, rng: np.random.Generator, foreground: bool
               ) -> tuple[np.ndarray, np.ndarray]:
        """A random (normalised) patch: image, position, crop."""
        k = int(self._cdf.searchsorted(rng.random(), side="right"))
        x, y = self.pairs[k]
        starts = self._foreground_starts(k, x.shape[:-1], rng) if foreground else None
        x, y = _crop(x, y, self.patch_size, rng, starts)
        if self.transforms is not None:
            x, y = self.transforms[k][0](x), self.transforms[k][1](y)
        return x, y

    def _draw(self, i: int) -> tuple[np.random.Generator, np.ndarray, np.ndarray]:
        if not 0 <= i < self.samples_per_epoch:
            raise IndexError(f"patch index {i} out of range 0..{self.samples_per_epoch - 1}")
        rng = np.random.default_rng([self.seed, self.epoch, i])
        return (rng, *self._patch(rng, self.foreground > 0))

    def _augment(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator,
                 applied: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        if self.augment is None:
            return x, y
        donor = self._patch(rng, False) if self.augment.needs_donor else None
        return self.augment.apply(x, y, rng, donor, applied)

    def sample(self, i: int, grid: bool = False) -> AugmentedSample:
        """Patch ``i`` of the current epoch before and after augmentation (with BiaPy's
        DRAW_GRID lines drawn before augmenting when ``grid``), for the aug/ folder."""
        rng, x, y = self._draw(i)
        if grid:
            x, y = draw_grid(x), draw_grid(y)
        applied: list[str] = []
        ax, ay = self._augment(x, y, rng, applied)
        return AugmentedSample(np.asarray(x), np.asarray(y), ax, ay, applied)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng, x, y = self._draw(i)
        x, y = self._augment(x, y, rng)
        return _tensor(x), _tensor(y)


class FixedPatchDataset(Dataset):
    """A fixed list of patches (seeded random positions, no augmentation) for validation.

    Parameters
    ----------
    pairs : sequence of (numpy.ndarray, numpy.ndarray)
        Channel-last input and target of the same spatial shape (see :class:`PatchDataset`).
    patch_size : sequence of int
        Spatial patch shape.
    patches_per_image : int
        Patches taken from each pair.
    seed : int
        Seed of the positions.
    transforms : sequence of (callable, callable), optional
        Per pair, the normalisation of an input crop and of a target crop.
    places : sequence of (int, list of int), optional
        ``(pair index, corner)`` of each patch, instead of random positions.
    """

    def __init__(self, pairs: Sequence[tuple[np.ndarray, np.ndarray]], patch_size: Sequence[int],
                 patches_per_image: int, seed: int,
                 transforms: Sequence[tuple[Transform, Transform]] | None = None,
                 places: Sequence[tuple[int, list[int]]] | None = None) -> None:
        rng = np.random.default_rng(seed)
        self.pairs = _prepare(pairs, patch_size)
        self.patch_size = tuple(patch_size)
        self.transforms = transforms
        # positions only: patches are cut (and read, for images on disk) when asked for
        self.places = list(places) if places is not None else [
            (k, [int(rng.integers(0, s - p + 1)) for s, p in
                 zip(x.shape[:-1], patch_size, strict=True)])
            for k, (x, _) in enumerate(self.pairs) for _ in range(patches_per_image)]

    def __len__(self) -> int:
        return len(self.places)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        k, starts = self.places[i]
        x, y = _crop(*self.pairs[k], self.patch_size, None, starts)
        if self.transforms is not None:
            x, y = self.transforms[k][0](x), self.transforms[k][1](y)
        return _tensor(x), _tensor(y)
