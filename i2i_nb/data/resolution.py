"""BiaPy's ``DATA.RESOLUTION_NORM``: training and validation images of different physical
resolution rescaled in-plane (y, x) to one target resolution.

Each file's voxel size ``(z, y, x)`` is read from ``resolution.json`` in the parent folder
of its ``PATH`` (``{"img_01.tif": [z, y, x], ...}``; validation taken from the training
images, or without a file of its own, uses the training one); a file it does not list is
left as it is. As BiaPy, the x size decides the in-plane factor ``x / TARGET_RESOLUTION[x]``
(y is taken to share it), and test images are not rescaled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from i2i_nb.errors import DataError


def resolution_map(split_path: str) -> dict[str, list[float]]:
    """The ``resolution.json`` beside a split's folder (empty when there is none)."""
    path = Path(split_path).absolute().parent / "resolution.json"
    if not path.is_file():
        return {}
    try:
        values = json.loads(path.read_text())
        return {str(name): [float(v) for v in res] for name, res in values.items()}
    except (ValueError, TypeError, AttributeError) as err:
        raise DataError(f"{path}: not a resolution.json of file names to [z, y, x] voxel "
                        f"sizes ({err})") from err


def rescale_in_plane(image: np.ndarray, factor: float) -> np.ndarray:
    """``image`` resized (linear) by ``factor`` along y and x, in its dtype."""
    from skimage.transform import resize

    image = np.asarray(image)
    shape = list(image.shape)
    for axis in (-3, -2):
        shape[axis] = max(1, round(shape[axis] * factor))
    return resize(image, shape, order=1, mode="reflect", preserve_range=True,
                  anti_aliasing=factor < 1).astype(image.dtype)


def normalise_resolution(loaded: list[tuple[Any, Any]], inputs: Sequence[Path],
                         resolutions: dict[str, list[float]], target_x: float
                         ) -> list[tuple[Any, Any]]:
    """Each ``(input, target)`` pair rescaled in-plane by its file's ``x / target_x``."""
    out = []
    for (x, y), path in zip(loaded, inputs, strict=True):
        res = resolutions.get(Path(path).name)
        factor = float(res[-1]) / target_x if res else 1.0
        if abs(factor - 1.0) > 1e-3:
            x = rescale_in_plane(x, factor)
            y = rescale_in_plane(y, factor) if y is not None else None
        out.append((x, y))
    matched = sum(Path(p).name in resolutions for p in inputs)
    print(f"DATA.RESOLUTION_NORM: {matched} of {len(inputs)} image(s) have a resolution")
    return out
