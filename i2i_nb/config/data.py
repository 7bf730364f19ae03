"""``DATA``: patch size, axes, normalisation and the train / validation / test sets."""

from __future__ import annotations

from dataclasses import dataclass, field

from i2i_nb.config.preprocess import (
    FilterSamplesConfig,
    PreprocessConfig,
    ResolutionNormConfig,
)


@dataclass
class PercClipConfig:
    """``DATA.NORMALIZATION.PERC_CLIP``: percentiles (or fixed values) used by ``percentile``
    normalisation and, when ``ENABLE``, to clip the inputs first (BiaPy).

    ``LOWER_VALUE`` / ``UPPER_VALUE`` (one per channel, or one for all; empty: not set) are
    fixed clip values that replace the measured percentiles.
    """

    enable: bool = False
    lower_perc: float = 1.0
    upper_perc: float = 99.8
    lower_value: list[float] = field(default_factory=list)
    upper_value: list[float] = field(default_factory=list)


@dataclass
class ZeroMeanUnitVarConfig:
    """``...ZERO_MEAN_UNIT_VAR``: fixed ``MEAN_VAL`` / ``STD_VAL`` (one per channel, or one for
    all; empty: measured) used by ``zero_mean_unit_variance`` instead of measured statistics."""

    mean_val: list[float] = field(default_factory=list)
    std_val: list[float] = field(default_factory=list)


@dataclass
class TargetPercClipConfig:
    """``DATA.NORMALIZATION.TARGET.PERC_CLIP``: fixed clip values of the targets."""

    enable: bool = False
    lower_value: list[float] = field(default_factory=list)
    upper_value: list[float] = field(default_factory=list)


@dataclass
class TargetNormalizationConfig:
    """``DATA.NORMALIZATION.TARGET``: how targets are normalised for training.

    Targets are always normalised with dataset-level statistics of the training targets
    (saved in the checkpoint; predictions are mapped back with them). ``TYPE`` chooses the
    statistics (``percentile`` by default; ``''`` as in BiaPy means the default here).
    ``ENABLE`` (BiaPy) asks for *fixed* values: ``ZERO_MEAN_UNIT_VAR.MEAN_VAL/STD_VAL`` or
    ``PERC_CLIP.LOWER_VALUE/UPPER_VALUE`` are then used instead of measured ones.
    """

    enable: bool = False
    type: str = "percentile"
    perc_clip: TargetPercClipConfig = field(default_factory=TargetPercClipConfig)
    zero_mean_unit_var: ZeroMeanUnitVarConfig = field(default_factory=ZeroMeanUnitVarConfig)


@dataclass
class NormalizationConfig:
    """``DATA.NORMALIZATION`` of the inputs.

    ``TYPE`` defaults to ``zero_mean_unit_variance``: on the quality benchmark it beat
    percentile normalisation on all 7 tasks (sparse field 39.6 against 28.0 dB, RGB to
    one channel 34.2 against 29.5 dB). ``MEASURE_BY: dataset`` (default, as CAREamics)
    takes the statistics of ``TYPE`` from all training inputs together and stores them in
    the checkpoint, so that differences in brightness between images survive
    normalisation; ``image`` (BiaPy 3.7's behaviour) measures each image on its own.
    BiaPy's ``custom`` is ``zero_mean_unit_variance``.
    """

    type: str = "zero_mean_unit_variance"
    measure_by: str = "dataset"
    perc_clip: PercClipConfig = field(default_factory=PercClipConfig)
    zero_mean_unit_var: ZeroMeanUnitVarConfig = field(default_factory=ZeroMeanUnitVarConfig)
    target: TargetNormalizationConfig = field(default_factory=TargetNormalizationConfig)


@dataclass
class TrainDataConfig:
    """``DATA.TRAIN``.

    ``IN_MEMORY: False`` leaves images on disk (memory-mapped, read by patch);
    ``FOREGROUND_SAMPLING`` is the share of patches drawn to hold foreground.
    ``EXTRACT_RANDOM_PATCH`` (BiaPy) draws random patches; ``False`` (BiaPy's default)
    trains on the grid of patches that covers each image (``OVERLAP``: fraction of a patch
    shared by neighbours; 0 the fewest patches that cover), each epoch one pass over them.
    ``REPLICATE`` repeats the training set that many times
    per epoch (0: once). ``RESOLUTION`` (BiaPy): the voxel size ``(y, x)`` / ``(z, y, x)``
    (``(-1,)``: isotropic), which makes AUGMENTOR.CUTOUT's boxes span the same physical
    size along every axis.

    BiaPy's Zarr/HDF5 keys (also in ``DATA.VAL`` and ``DATA.TEST``):
    ``INPUT_ZARR_MULTIPLE_DATA`` reads the raw image and its target from the same container
    at ``INPUT_ZARR_MULTIPLE_DATA_RAW_PATH`` and ``_GT_PATH`` (``volumes.raw`` or
    ``volumes/raw``); ``INPUT_IMG_AXES_ORDER`` / ``INPUT_MASK_AXES_ORDER`` are the stored
    axes of Zarr/HDF5 inputs / targets (e.g. ``ZYX``, ``CZYX``, ``TZCYX`` with one time
    point; empty, or BiaPy's default ``TZCYX`` on an array of another rank: the NGFF
    metadata's, else ``DATA.AXES`` / ``DATA.GT_AXES``, else a guess).
    """

    path: str = "dataset/train/x"
    gt_path: str = "dataset/train/y"
    in_memory: bool = True
    foreground_sampling: float = 0.9
    extract_random_patch: bool = True
    resolution: tuple[float, ...] = (-1.0,)
    replicate: int = 0
    overlap: tuple[float, ...] = ()
    input_zarr_multiple_data: bool = False
    input_zarr_multiple_data_raw_path: str = ""
    input_zarr_multiple_data_gt_path: str = ""
    input_img_axes_order: str = ""
    input_mask_axes_order: str = ""
    filter_samples: FilterSamplesConfig = field(default_factory=FilterSamplesConfig)


@dataclass
class ValDataConfig:
    """``DATA.VAL``: a seeded fraction of the training pairs (``RANDOM``: drawn at random;
    ``False``: the last pairs in name order, as BiaPy), BiaPy's k-fold ``CROSS_VAL``
    (fold ``CROSS_VAL_FOLD`` of ``CROSS_VAL_NFOLD``), or a folder of its own. ``OVERLAP``
    is the grid of validation patches with ``DATA.TRAIN.EXTRACT_RANDOM_PATCH: False``.

    ``SPLIT_BY`` (this project's): ``image`` (default) holds out whole training images;
    ``region`` the last ``SPLIT_TRAIN`` share (at least one patch) of every image along its
    longest axis, so that a single training image still has validation (and the quality
    check). On ``bench/quality.py``'s scarce-data tasks ``region`` scored 0.4-1.2 dB lower,
    so it is not the default.
    Zarr/HDF5 keys as in ``DATA.TRAIN``."""

    from_train: bool = True
    split_train: float = 0.1
    split_by: str = "image"
    random: bool = True
    cross_val: bool = False
    cross_val_nfold: int = 5
    cross_val_fold: int = 1
    path: str = ""
    gt_path: str = ""
    overlap: tuple[float, ...] = ()
    input_zarr_multiple_data: bool = False
    input_zarr_multiple_data_raw_path: str = ""
    input_zarr_multiple_data_gt_path: str = ""
    input_img_axes_order: str = ""
    input_mask_axes_order: str = ""
    filter_samples: FilterSamplesConfig = field(default_factory=FilterSamplesConfig)


@dataclass
class RoiMaskConfig:
    """``DATA.TEST.ROI_MASK`` (BiaPy): predictions are 0 outside the mask (anything above 0)
    before they are written and scored. ``PATH``: one mask for every test image, or a folder
    of one (for all) or of masks named as the images; a mask of another shape is stretched
    over the image (nearest neighbour). ``AXES_ORDER``: its stored axes (empty: the file's
    metadata, else a guess). Not built for ``TEST.BY_CHUNKS``.
    """

    enable: bool = False
    path: str = ""
    axes_order: str = ""


@dataclass
class TestDataConfig:
    """``DATA.TEST``; ``OVERLAP`` below 1 is a fraction of the tile, else pixels.

    ``USE_VAL_AS_TEST`` (with ``DATA.VAL.CROSS_VAL``, as BiaPy) tests on the validation fold.
    ``MEDIAN_PADDING`` (BiaPy): the tiles' parts beyond the image borders hold the median of
    the border slice (per channel) instead of its reflection (BiaPy 3.7.1 does this in 3D
    only, for ``PADDING``; here in 2D and 3D, for every border tile).
    Zarr/HDF5 keys as in ``DATA.TRAIN``.
    """

    path: str = "dataset/test/x"
    gt_path: str = "dataset/test/y"
    load_gt: bool = True
    use_val_as_test: bool = False
    median_padding: bool = False
    roi_mask: RoiMaskConfig = field(default_factory=RoiMaskConfig)
    padding: tuple[int, ...] = ()
    overlap: tuple[float, ...] = ()
    tile_shape: tuple[int, ...] = ()
    input_zarr_multiple_data: bool = False
    input_zarr_multiple_data_raw_path: str = ""
    input_zarr_multiple_data_gt_path: str = ""
    input_img_axes_order: str = ""
    input_mask_axes_order: str = ""
    filter_samples: FilterSamplesConfig = field(default_factory=FilterSamplesConfig)


@dataclass
class DataConfig:
    """``DATA``; ``PATCH_SIZE`` is ``(y, x[, c])`` or ``(z, y, x[, c])`` as in BiaPy.

    ``REFLECT_TO_COMPLETE_SHAPE``: images smaller than a patch are reflect-padded to it
    (BiaPy); ``False`` refuses them, naming the file. ``FORCE_RGB`` (BiaPy): one-channel
    inputs, and targets, are repeated into three channels for training, validation and test
    (after ``PREPROCESS``; the predictions then have three). ``FILTER_BY_IMAGE`` (BiaPy): the
    ``DATA.*.FILTER_SAMPLES`` conditions drop whole images; ``False`` (default) drops patches
    of the grid with ``DATA.TRAIN.EXTRACT_RANDOM_PATCH: False``, else whole images (random
    patches have no fixed places, as BiaPy); ``SAVE_FILTERED_IMAGES`` writes up to
    ``SAVE_FILTERED_IMAGES_NUM`` examples into the results' ``filtering_information/``
    (dropped and kept images, or images with their dropped patches black). ``PREPROCESS``:
    see
    :class:`~i2i_nb.config.preprocess.PreprocessConfig`.
    """

    patch_size: tuple[int, ...] = (128, 128, 1)
    axes: str = ""
    gt_axes: str = ""
    reflect_to_complete_shape: bool = True
    force_rgb: bool = False
    filter_by_image: bool = False
    save_filtered_images: bool = False
    save_filtered_images_num: int = 3
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    resolution_norm: ResolutionNormConfig = field(default_factory=ResolutionNormConfig)
    normalization: NormalizationConfig = field(default_factory=NormalizationConfig)
    train: TrainDataConfig = field(default_factory=TrainDataConfig)
    val: ValDataConfig = field(default_factory=ValDataConfig)
    test: TestDataConfig = field(default_factory=TestDataConfig)
