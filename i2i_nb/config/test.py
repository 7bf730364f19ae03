"""``TEST``: whole-image prediction and its metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

# every metric i2i_nb.metrics computes, in the order tables show them
METRICS = ("psnr", "si_psnr", "pcc", "ssim", "mae", "mse", "nrmse")
DEFAULT_METRICS = ("psnr", "si_psnr", "pcc", "ssim", "mae")
# BiaPy's image-to-image metrics that need a pretrained network's weights
NEED_WEIGHTS = {"fid": "Inception-v3", "is": "Inception-v3", "lpips": "AlexNet/VGG"}

@dataclass
class ByChunksConfig:
    """``TEST.BY_CHUNKS``: block-wise prediction of big volumes into one OME-Zarr per image.

    ``ENABLE``: the image is split into blocks (``BLOCK_SHAPE``; default twice the tile per
    axis); each block is predicted from the tiles that reach it (the tiler's halo) and
    written straight into the output Zarr, one chunk per block, then recorded as finished,
    so a job run again skips the finished blocks. torchrun processes share the blocks;
    independent jobs take the blocks starting in ``[Z_START, Z_END)`` of the first spatial
    axis (z in 3D, y in 2D; -1: from the start / to the end), all writing the same output.
    ``SAVE_OUT_TIF`` also writes a TIFF once every block is done.
    """

    enable: bool = False
    z_start: int = -1
    z_end: int = -1
    block_shape: tuple[int, ...] = ()
    save_out_tif: bool = False


#: ``TEST.AUGMENTATION_GROUP`` values (BiaPy's ``TTA_GROUPS``); ``auto`` is ``full``.
TTA_GROUPS = ("auto", "full", "flips", "none")

@dataclass
class TestConfig:
    """``TEST``; ``FULL_IMG`` predicts each image in one piece instead of tiles.

    ``ON_DISK``: ``auto`` predicts an image from disk to disk (memory-mapped input and
    output, never held whole) when it would not fit in half the available memory;
    ``always`` or ``never`` force the choice. ``REDUCE_MEMORY`` (BiaPy) is ``ON_DISK:
    always``. ``AUGMENTATION`` averages predictions over flips and 90-degree rotations;
    ``AUGMENTATION_MODE`` combines them by ``mean``, ``min`` or ``max``;
    ``AUGMENTATION_GROUP`` chooses them (BiaPy's): ``auto``/``full`` every flip and
    rotation in the y-x plane (8 in 2D, 16 in 3D), ``flips`` axis flips only (4 in 2D, 8 in
    3D), ``none`` the image as it is.

    ``METRICS``: scores per test image, in the targets' units, of the prediction and of
    the identity and constant baselines: ``psnr``, ``si_psnr`` (PSNR after an affine fit
    of the prediction to the target), ``pcc`` (Pearson's r), ``ssim``, ``mae``, ``mse``,
    ``nrmse`` (RMSE over the target's min-max range); empty: the default list. BiaPy's
    ``fid``, ``is`` and ``lpips`` need downloaded network weights and are refused.
    ``EVAL_BORDER_CROP`` (BiaPy's): pixels left out at both ends of each spatial axis
    (``[z,] y, x``) before scoring; the predictions are not changed.
    ``OUTPUT_FORMAT``: ``auto`` writes OME-Zarr predictions of Zarr/HDF5 inputs and TIFFs of
    TIFF inputs; ``tiff`` or ``zarr`` choose one for all. Pixel sizes are copied from the input.
    """

    enable: bool = True
    full_img: bool = False
    augmentation: bool = False
    augmentation_mode: str = "mean"
    augmentation_group: str = "auto"
    reduce_memory: bool = False
    tiles_per_batch: int = 4
    output_dtype: str = "float32"
    on_disk: str = "auto"
    metrics: list[str] = field(default_factory=lambda: list(DEFAULT_METRICS))
    eval_border_crop: list[int] = field(default_factory=list)
    output_format: str = "auto"
    by_chunks: ByChunksConfig = field(default_factory=ByChunksConfig)
