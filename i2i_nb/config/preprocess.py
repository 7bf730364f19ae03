"""``DATA.PREPROCESS`` and ``DATA.*.FILTER_SAMPLES``: BiaPy's pre-processing of whole images
and its filtering of images or patches by their properties."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ResizeConfig:
    """``DATA.PREPROCESS.RESIZE``: ``skimage.transform.resize`` of every image to
    ``OUTPUT_SHAPE`` (``(y, x)`` or ``(z, y, x)``) with BiaPy's keyword arguments."""

    enable: bool = False
    output_shape: tuple[int, ...] = (512, 512)
    order: int = 1
    mode: str = "reflect"
    cval: float = 0.0
    clip: bool = True
    preserve_range: bool = True
    anti_aliasing: bool = False


@dataclass
class GaussianBlurConfig:
    """``DATA.PREPROCESS.GAUSSIAN_BLUR``: ``skimage.filters.gaussian`` of the inputs
    (``CHANNEL_AXIS`` None: the channel axis is blurred too, as BiaPy)."""

    enable: bool = False
    sigma: tuple[float, ...] = (1.0,)
    mode: str = "nearest"
    channel_axis: int | None = None


@dataclass
class MedianBlurConfig:
    """``DATA.PREPROCESS.MEDIAN_BLUR``: ``skimage.filters.median`` of the inputs with a box
    of ``KERNEL_SIZE`` (channels included: ``(y, x, c)`` or ``(z, y, x, c)``)."""

    enable: bool = False
    kernel_size: tuple[int, ...] = (3, 3, 1)


@dataclass
class MatchHistogramConfig:
    """``DATA.PREPROCESS.MATCH_HISTOGRAM``: the inputs' histograms matched to the pooled
    histogram of the images in ``REFERENCE_PATH`` (a folder or one image), by cumulative
    histograms over the reference's own values (BiaPy interpolates over every integer up
    to the dtype's maximum, which maps the top quantile to that maximum)."""

    enable: bool = False
    reference_path: str = "user_data/test/x"


@dataclass
class ClaheConfig:
    """``DATA.PREPROCESS.CLAHE``: ``skimage.exposure.equalize_adapthist`` of the inputs
    (``KERNEL_SIZE`` None: 1/8 of the image per axis)."""

    enable: bool = False
    kernel_size: tuple[int, ...] | None = None
    clip_limit: float = 0.01


@dataclass
class CannyConfig:
    """``DATA.PREPROCESS.CANNY`` (2D): the inputs replaced by their ``skimage.feature.canny``
    edges, one channel of 0/255 (an RGB input made grey first)."""

    enable: bool = False
    low_threshold: float | None = None
    high_threshold: float | None = None


@dataclass
class ZoomConfig:
    """``DATA.PREPROCESS.ZOOM`` (block-wise prediction only, ``TEST.BY_CHUNKS``): the test
    inputs zoomed by ``ZOOM_FACTOR`` (one factor per letter of
    ``DATA.TEST.INPUT_IMG_AXES_ORDER``, BiaPy's default ``TZCYX`` when that is empty) with
    ``scipy.ndimage.zoom`` order 0 (nearest neighbour, as BiaPy) before the network; the
    prediction is written at the zoomed size ``round(size * factor)`` per axis, its pixel
    size divided by the factor. Test targets are zoomed the same way to be scored. The
    factors of ``T`` and ``C`` must be 1.
    """

    enable: bool = False
    zoom_factor: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0)

    def spatial(self, letters: str, ndim: int) -> tuple[float, ...]:
        """The factors of the spatial axes ``[z,] y, x`` (1 for a letter not given)."""
        by_letter = dict(zip(letters.upper(), self.zoom_factor, strict=False))
        return tuple(float(by_letter.get(a, 1.0)) for a in "ZYX"[-ndim:])


@dataclass
class PreprocessConfig:
    """``DATA.PREPROCESS``: BiaPy's pre-processing of whole images, before normalisation.

    ``TRAIN`` / ``VAL`` / ``TEST`` switch it on for each set (validation taken from the
    training images follows ``TRAIN``, as BiaPy). Inputs get, in this order, ``RESIZE``,
    ``GAUSSIAN_BLUR``, ``MEDIAN_BLUR``, ``MATCH_HISTOGRAM``, ``CLAHE``, ``CANNY``; training
    and validation targets only ``RESIZE`` (with ``ORDER``: BiaPy 3.7.1's generator passes
    nearest neighbour for every workflow's targets, meant for masks). Test targets are not
    pre-processed: a test prediction is resized back to its input's own size (as BiaPy) and
    scored against the target as it is. ``ZOOM`` (block-wise prediction only) is
    :class:`ZoomConfig`; it applies whatever ``TEST`` says, as BiaPy, before the other
    operations.
    """

    train: bool = False
    val: bool = False
    test: bool = False
    resize: ResizeConfig = field(default_factory=ResizeConfig)
    gaussian_blur: GaussianBlurConfig = field(default_factory=GaussianBlurConfig)
    median_blur: MedianBlurConfig = field(default_factory=MedianBlurConfig)
    match_histogram: MatchHistogramConfig = field(default_factory=MatchHistogramConfig)
    clahe: ClaheConfig = field(default_factory=ClaheConfig)
    canny: CannyConfig = field(default_factory=CannyConfig)
    zoom: ZoomConfig = field(default_factory=ZoomConfig)

    @property
    def any_op(self) -> bool:
        """Whether any operation is on."""
        return any(getattr(self, name).enable for name in (
            "resize", "gaussian_blur", "median_blur", "match_histogram", "clahe", "canny"))


@dataclass
class FilterSamplesConfig:
    """``DATA.{TRAIN,VAL,TEST}.FILTER_SAMPLES``: drop images (or patches) by properties.

    ``PROPS`` / ``VALUES`` / ``SIGNS`` are lists of lists: a sample is dropped when it meets
    every condition of any one list (``[['mean'], ['min', 'max']]``). Properties: ``mean``,
    ``min``, ``max`` of the input; ``target_mean``, ``target_min``, ``target_max``; ``diff``
    (sum of ``|input - target|``), ``diff_by_min_max_ratio`` (times the input image's
    max - min), ``diff_by_target_min_max_ratio`` (times the target image's). Signs ``gt``,
    ``ge``, ``lt``, ``le``. ``NORM_BEFORE`` measures after normalising each image by its own
    statistics of ``DATA.NORMALIZATION.TYPE`` (targets: ``TARGET.TYPE``); each set reads its
    own (BiaPy 3.7.1 reads ``DATA.TRAIN``'s for validation too, and none for test). Images
    are measured as stored, before ``DATA.PREPROCESS`` (as BiaPy); patches (see
    ``DATA.FILTER_BY_IMAGE``) on the image they are cut from, after it.
    """

    enable: bool = False
    props: list[list[str]] = field(default_factory=list)
    values: list[list[float]] = field(default_factory=list)
    signs: list[list[str]] = field(default_factory=list)
    norm_before: bool = False


@dataclass
class ResolutionNormConfig:
    """``DATA.RESOLUTION_NORM`` (BiaPy): training and validation images rescaled in-plane to
    ``TARGET_RESOLUTION`` ``(z, y, x)`` (only x is used, as BiaPy) from each file's voxel size
    in ``resolution.json`` beside the split's folder; see :mod:`i2i_nb.data.resolution`."""

    enable: bool = False
    target_resolution: tuple[float, ...] = (-1.0, -1.0, -1.0)


#: BiaPy's default ``DATA.TEST.INPUT_IMG_AXES_ORDER``, which names the zoom factors when
#: that key is empty here
ZOOM_AXES = "TZCYX"
FILTER_PROPS = ("mean", "min", "max", "target_mean", "target_min", "target_max", "diff",
                "diff_by_min_max_ratio", "diff_by_target_min_max_ratio")
TARGET_PROPS = FILTER_PROPS[3:]
FILTER_SIGNS = ("gt", "ge", "lt", "le")
RESIZE_MODES = ("constant", "edge", "symmetric", "reflect", "wrap")
BLUR_MODES = ("reflect", "constant", "nearest", "mirror", "wrap")
