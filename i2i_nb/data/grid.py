"""BiaPy's ``DATA.TRAIN.EXTRACT_RANDOM_PATCH: False``: train on the grid of patches that
covers each image, every patch once per epoch (in a seeded random order)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from i2i_nb.data.patches import PatchDataset, _crop


def grid_starts(size: int, patch: int, overlap: float = 0.0) -> list[int]:
    """Corners of patches along one axis covering ``size``.

    ``overlap`` is the fraction of a patch shared by neighbours, in ``[0, 1)``; 0 gives the
    fewest patches that cover the axis (spread evenly, so the last ones overlap a little).
    """
    if size <= patch:
        return [0]
    if overlap <= 0:
        count = math.ceil(size / patch)
    else:
        step = max(1, int(patch * (1 - overlap)))
        count = math.ceil((size - patch) / step) + 1
    return sorted({int(round(v)) for v in np.linspace(0, size - patch, count)})


def grid_places(shapes: Sequence[Sequence[int]], patch: Sequence[int],
                overlap: Sequence[float] = ()) -> list[tuple[int, list[int]]]:
    """``(image index, corner)`` of every grid patch of every image."""
    overlap = list(overlap) or [0.0] * len(patch)
    places = []
    for k, shape in enumerate(shapes):
        axes = [grid_starts(s, p, o) for s, p, o in zip(shape, patch, overlap, strict=True)]
        places += [(k, [axes[a][i] for a, i in enumerate(corner)])
                   for corner in np.ndindex(*map(len, axes))]
    return places


class GridPatchDataset(PatchDataset):
    """Every grid patch of every image once per epoch, ``1 + replicate`` times over.

    The order is a seeded permutation per epoch; augmentation is drawn per item as in
    :class:`PatchDataset` (same arguments, plus ``overlap`` and ``replicate``; ``places``,
    when given, are the grid patches to use, e.g. those ``DATA.TRAIN.FILTER_SAMPLES`` kept).
    """

    def __init__(self, pairs: Sequence[tuple[np.ndarray, np.ndarray]], patch_size: Sequence[int],
                 augment: object, seed: int, transforms: Sequence | None = None,
                 overlap: Sequence[float] = (), replicate: int = 0,
                 places: Sequence[tuple[int, list[int]]] | None = None) -> None:
        super().__init__(pairs, patch_size, 1, augment, seed, transforms, 0.0)
        self.places = list(places) if places is not None else grid_places(
            [x.shape[:-1] for x, _ in self.pairs], patch_size, overlap)
        self.samples_per_epoch = len(self.places) * (1 + replicate)
        self._order: tuple[int, np.ndarray] | None = None

    def _permutation(self) -> np.ndarray:
        if self._order is None or self._order[0] != self.epoch:
            rng = np.random.default_rng([self.seed, self.epoch])
            self._order = (self.epoch, rng.permutation(self.samples_per_epoch))
        return self._order[1]

    def _draw(self, i: int) -> tuple[np.random.Generator, np.ndarray, np.ndarray]:
        if not 0 <= i < self.samples_per_epoch:
            raise IndexError(f"patch index {i} out of range 0..{self.samples_per_epoch - 1}")
        k, starts = self.places[int(self._permutation()[i]) % len(self.places)]
        rng = np.random.default_rng([self.seed, self.epoch, i])
        x, y = _crop(*self.pairs[k], self.patch_size, None, starts)
        if self.transforms is not None:
            x, y = self.transforms[k][0](x), self.transforms[k][1](y)
        return rng, x, y
