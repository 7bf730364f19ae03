"""BiaPy's ``DATA.PREPROCESS``: whole images changed before normalisation (scikit-image).

Every operation returns the image's own dtype, as BiaPy (scikit-image's results in ``[0, 1]``
are scaled back to an integer type's maximum first).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from i2i_nb.config.preprocess import PreprocessConfig, ResizeConfig
from i2i_nb.errors import DataError


def _in_dtype(result: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A scikit-image result in ``[0, 1]`` back in ``dtype`` (BiaPy's conversion)."""
    if np.issubdtype(dtype, np.integer):
        result = result * np.iinfo(dtype).max
    return result.astype(dtype)


def resize_image(image: np.ndarray, shape: Sequence[int], r: ResizeConfig,
                 order: int | None = None) -> np.ndarray:
    """``skimage.transform.resize`` to the spatial ``shape`` (channels kept) with the
    ``RESIZE`` keys, in the image's dtype."""
    from skimage.transform import resize

    image = np.asarray(image)
    out = resize(image, (*shape, image.shape[-1]), order=r.order if order is None else order,
                 mode=r.mode, cval=r.cval, clip=r.clip, preserve_range=r.preserve_range,
                 anti_aliasing=r.anti_aliasing)
    return out.astype(image.dtype)


def _clahe(image: np.ndarray, kernel_size: Sequence[int] | None, clip_limit: float
           ) -> np.ndarray:
    """``equalize_adapthist``; a float image outside ``[-1, 1]`` (which scikit-image refuses)
    is first scaled to ``[0, 1]`` by its own range."""
    from skimage.exposure import equalize_adapthist

    work = image
    if np.issubdtype(image.dtype, np.floating) and (image.min() < -1 or image.max() > 1):
        low, high = float(image.min()), float(image.max())
        work = (image - low) / (high - low if high > low else 1.0)
    kernel: int | list[int] | None = None
    if kernel_size is not None:  # one value: every axis (as scikit-image takes an int)
        kernel = int(kernel_size[0]) if len(kernel_size) == 1 else list(kernel_size)
    return _in_dtype(equalize_adapthist(work, kernel_size=kernel, clip_limit=clip_limit),
                     image.dtype)


def _canny(image: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
    """Edges of a grey or RGB 2D image: one uint8 channel, 0 or 255."""
    from skimage.color import rgb2gray
    from skimage.feature import canny

    channels = image.shape[-1]
    if channels not in (1, 3):
        raise DataError(f"DATA.PREPROCESS.CANNY: takes grey or RGB images (1 or 3 channels), "
                        f"not {channels}")
    grey = rgb2gray(image) if channels == 3 else image[..., 0]
    edges = canny(grey, low_threshold=low, high_threshold=high)
    return edges.astype(np.uint8)[..., None] * 255


def as_rgb(image: np.ndarray) -> np.ndarray:
    """``DATA.FORCE_RGB``: a one-channel image repeated into three (others unchanged)."""
    return np.repeat(np.asarray(image), 3, axis=-1) if image.shape[-1] == 1 else image


class Preprocessor:
    """``DATA.PREPROCESS`` for one run: :meth:`input` and :meth:`target` change a whole
    image, :meth:`restore` resizes a prediction back to its input's size.

    The reference histogram of ``MATCH_HISTOGRAM`` is read once, when first needed.
    """

    def __init__(self, cfg: PreprocessConfig, ndim: int) -> None:
        self.cfg, self.ndim = cfg, ndim
        self._quantiles: tuple[np.ndarray, np.ndarray] | None = None

    def applies(self, split: str) -> bool:
        """Whether pre-processing is on for ``split`` (``train``, ``val`` or ``test``)."""
        return bool(getattr(self.cfg, split)) and self.cfg.any_op

    def channels(self, channels: int) -> int:
        """Input channels after pre-processing (CANNY leaves one)."""
        return 1 if self.cfg.canny.enable else channels

    def _reference(self) -> tuple[np.ndarray, np.ndarray]:
        """Values of the reference images and their cumulative quantiles (pooled)."""
        if self._quantiles is None:
            from i2i_nb.data.io import read_image
            from i2i_nb.data.pairs import is_single_image, list_images

            path = Path(self.cfg.match_histogram.reference_path)
            files = [path] if is_single_image(path) else list_images(path)
            pooled = np.concatenate([np.asarray(read_image(f, self.ndim)).ravel()
                                     for f in files])
            values, counts = np.unique(pooled, return_counts=True)
            self._quantiles = (values.astype(np.float64), np.cumsum(counts) / pooled.size)
        return self._quantiles

    def _match(self, image: np.ndarray) -> np.ndarray:
        """The image's values mapped so that its histogram follows the reference's (the
        cumulative-histogram matching of scikit-image, which BiaPy's follows)."""
        reference, quantiles = self._reference()
        _, inverse, counts = np.unique(np.asarray(image).ravel(), return_inverse=True,
                                       return_counts=True)
        mapped = np.interp(np.cumsum(counts) / image.size, quantiles, reference)
        return mapped[inverse].reshape(image.shape).astype(image.dtype)

    def input(self, image: np.ndarray) -> np.ndarray:
        """An input image pre-processed: RESIZE, GAUSSIAN_BLUR, MEDIAN_BLUR,
        MATCH_HISTOGRAM, CLAHE, CANNY, those enabled, in this order (as BiaPy)."""
        from skimage.filters import gaussian, median

        c, out = self.cfg, np.asarray(image)
        if c.resize.enable:
            out = resize_image(out, c.resize.output_shape, c.resize)
        if c.gaussian_blur.enable:
            sigma = c.gaussian_blur.sigma
            out = _in_dtype(gaussian(out, sigma=sigma[0] if len(sigma) == 1 else list(sigma),
                                     mode=c.gaussian_blur.mode,
                                     channel_axis=c.gaussian_blur.channel_axis), out.dtype)
        if c.median_blur.enable:
            out = median(out, footprint=np.ones(c.median_blur.kernel_size, bool)
                         ).astype(out.dtype)
        if c.match_histogram.enable:
            out = self._match(out)
        if c.clahe.enable:
            out = _clahe(out, c.clahe.kernel_size, c.clahe.clip_limit)
        if c.canny.enable:
            out = _canny(out, c.canny.low_threshold, c.canny.high_threshold)
        return out

    def target(self, image: np.ndarray) -> np.ndarray:
        """A training or validation target pre-processed: RESIZE only (as BiaPy)."""
        if not self.cfg.resize.enable:
            return image
        return resize_image(image, self.cfg.resize.output_shape, self.cfg.resize)

    def restore(self, prediction: np.ndarray, shape: Sequence[int]) -> np.ndarray:
        """A prediction of a resized input resized back to the input's spatial ``shape``."""
        if not self.cfg.resize.enable or tuple(prediction.shape[:-1]) == tuple(shape):
            return prediction
        return resize_image(prediction, shape, self.cfg.resize)

    def pairs(self, loaded: list[tuple[np.ndarray, np.ndarray | None]]
              ) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """Loaded ``(input, target)`` pairs pre-processed (read whole into memory); a target
        shared by several inputs is pre-processed once."""
        done: dict[int, np.ndarray] = {}
        out = []
        for x, y in loaded:
            if y is not None and id(y) not in done:
                done[id(y)] = self.target(np.asarray(y))
            out.append((self.input(x), done[id(y)] if y is not None else None))
        return out
