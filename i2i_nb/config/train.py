"""``TRAIN`` and ``LOSS``: optimisation, schedule, early stopping and the loss."""

from __future__ import annotations

from dataclasses import dataclass, field

LOSSES = ("mae", "mse", "charbonnier", "pcc", "ssim", "laplacian", "fft", "rfft")
ALIASES = {"l1": "mae"}
OPTIMIZERS = ("adamw", "adam", "sgd")
ADVERSARIAL = ("bce", "hinge")  # the adversarial terms of BiaPy's GAN training (nafnet)
REFUSED = {
    "vgg": "needs ImageNet-pretrained VGG16 weights, which nothing here may download",
    "lpips": "needs pretrained LPIPS (AlexNet) weights, which nothing here may download",
    **{name: "is the adversarial term of BiaPy's GAN training: it needs MODEL.ARCHITECTURE "
              "nafnet (with MODEL.NAFNET.ARCHITECTURE_D), not a loss on its own"
       for name in ADVERSARIAL},
}


def loss_problem(name: str) -> str | None:
    """Why ``name`` cannot be a ``LOSS.TYPE`` here, or None when it can."""
    key = ALIASES.get(name.lower(), name.lower())
    if key in LOSSES:
        return None
    if key in REFUSED:
        return f"{name!r} {REFUSED[key]}"
    return f"{name!r} is not one of {', '.join(n.upper() for n in LOSSES)} (or L1)"


@dataclass
class LRSchedulerConfig:
    """``TRAIN.LR_SCHEDULER``: ``warmupcosine`` (default), ``onecycle``, ``reduceonplateau``,
    ``warmupreduceonplateau`` or ``''``/``none`` (constant).

    ``warmupcosine`` rises linearly for ``WARMUP_COSINE_DECAY_EPOCHS`` epochs, then decays
    along a cosine to ``MIN_LR``; with ``COSINE_DECAY_FRACTION`` in (0, 1] it holds ``LR``
    until that fraction of the epochs is left, then decays. ``warmupreduceonplateau`` warms
    up the same way, then lowers the rate by ``REDUCEONPLATEAU_FACTOR`` after
    ``REDUCEONPLATEAU_PATIENCE`` epochs without a better validation loss.
    """

    name: str = "warmupcosine"
    min_lr: float = 1e-5
    warmup_cosine_decay_epochs: int = 5
    cosine_decay_fraction: float = -1.0
    reduceonplateau_patience: int = 10
    reduceonplateau_factor: float = 0.5


@dataclass
class GanLossConfig:
    """``LOSS.GAN``: the adversarial term's knobs (used with ``BCE`` or ``HINGE``).

    ``R1_GAMMA`` > 0 adds BiaPy's R1 penalty ``R1_GAMMA / 2 * |d D(real) / d real|^2`` to the
    discriminator's loss; ``ADAPTIVE_GAN_WEIGHT`` scales the adversarial weight by the ratio
    of the reconstruction and adversarial gradients' norms at the generator's last layer
    (VQGAN's adaptive weight, clamped to [0, 1e4]) in training steps.
    """

    r1_gamma: float = 0.0
    adaptive_gan_weight: bool = False


@dataclass
class LossConfig:
    """``LOSS``: ``TYPE`` is one loss or a list of them, mixed with ``WEIGHTS`` (one per loss;
    empty: equal weights). With ``MODEL.ARCHITECTURE`` nafnet one entry is the adversarial
    term, ``BCE`` or ``HINGE`` (its weight scales the generator's adversarial loss), the
    others the reconstruction loss."""

    type: list[str] = field(default_factory=lambda: ["MAE"])
    weights: list[float] = field(default_factory=list)
    gan: GanLossConfig = field(default_factory=GanLossConfig)


@dataclass
class DiscriminatorTrainConfig:
    """``TRAIN.DISCRIMINATOR``: the GAN discriminator's optimiser, BiaPy's second entry of
    ``TRAIN.OPTIMIZER``, ``TRAIN.LR``, ``TRAIN.OPT_BETAS`` and ``TRAIN.LR_SCHEDULER.MIN_LR``
    (a BiaPy file's two-element lists are read into it). ``OPTIMIZER`` ``''``: none (only
    nafnet has a discriminator); ``OPT_BETAS`` empty and ``MIN_LR`` -1: the generator's (one
    value for both, as BiaPy). The schedule is ``TRAIN.LR_SCHEDULER``'s.
    """

    optimizer: str = ""
    lr: float = 0.0
    opt_betas: list[float] = field(default_factory=list)
    min_lr: float = -1.0


@dataclass
class TrainConfig:
    """``TRAIN``; ``PATCHES_PER_EPOCH`` 0 means one pass over the training voxels;
    ``COMPILE`` trains through ``torch.compile`` (a warm-up of a minute or so, then often
    faster on CUDA; on the CPU it needs a C++ compiler). ``AMP`` (this project's): mixed
    precision in training, validation and prediction, bfloat16 autocast on CUDA (float16
    where bfloat16 is missing) and on CPUs with native bfloat16 (AVX512-BF16, AMX);
    ``False``: float32 throughout (:mod:`i2i_nb.compute`).

    ``PATIENCE``: epochs without improvement of ``CHECKPOINT_MONITOR`` before stopping;
    -1 (BiaPy) never stops early. ``OPT_BETAS`` are Adam/AdamW's betas.
    ``ACCUM_ITER`` accumulates gradients over that many batches per optimiser step (an
    old BiaPy key); ``GRADIENT_CLIP_NORM`` clips the gradients' norm (0: off).
    ``CHECKPOINT_MONITOR`` (BiaPy does not use it; here ``val_loss`` or ``val_psnr``)
    decides the best checkpoint and early stopping.

    ``METRICS`` (BiaPy's ``psnr``, ``mae``, ``mse``, ``ssim``, ``pcc``, and ``si_psnr``,
    ``nrmse``; empty: ``psnr``) are measured on the validation patches every epoch, in
    normalised target units, and logged as ``val_<metric>`` columns of the train log and
    in TensorBoard.

    ``SAVE_TRAIN_PREDS_FREQ`` (BiaPy; -1: off) writes the predictions of
    ``SAVE_TRAIN_PREDS_NUM_SAMPLES`` fixed patches (validation patches, else training ones)
    every that many epochs and at the last one into the results' ``train_pred_samples/``
    (``input/``, ``gt/`` once; ``pred_epoch_NNNN/``; normalised units).
    ``SAVE_TRAIN_PREDS_SHOW`` (BiaPy) also shows them inline each time they are written,
    when the training runs in a Jupyter or Colab notebook kernel (ignored elsewhere).
    """

    enable: bool = True
    epochs: int = 100
    patience: int = 20
    batch_size: int = 8
    lr: float = 1e-3
    optimizer: str = "adamw"
    opt_betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    w_decay: float = 1e-4
    accum_iter: int = 1
    gradient_clip_norm: float = 0.0
    checkpoint_monitor: str = "val_loss"
    patches_per_epoch: int = 0
    amp: bool = True
    compile: bool = False
    metrics: list[str] = field(default_factory=lambda: ["psnr"])
    save_train_preds_freq: int = -1
    save_train_preds_num_samples: int = 1
    save_train_preds_show: bool = False
    lr_scheduler: LRSchedulerConfig = field(default_factory=LRSchedulerConfig)
    discriminator: DiscriminatorTrainConfig = field(default_factory=DiscriminatorTrainConfig)
