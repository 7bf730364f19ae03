"""``TRAIN`` and ``LOSS``: optimisation, schedule, early stopping and the loss."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LRSchedulerConfig:
    """``TRAIN.LR_SCHEDULER``: ``warmupcosine`` (default), ``onecycle``, ``reduceonplateau``,
    ``warmupreduceonplateau`` or ``''``/``none`` (constant)."""

    name: str = "warmupcosine"
    min_lr: float = 1e-5
    warmup_cosine_decay_epochs: int = 5
    cosine_decay_fraction: float = -1.0
    reduceonplateau_patience: int = 10
    reduceonplateau_factor: float = 0.5


@dataclass
class LossConfig:
    """``LOSS``: ``TYPE`` is one loss or a list of them, mixed with ``WEIGHTS`` (one per loss;
    empty: equal weights)."""

    type: list[str] = field(default_factory=lambda: ["MAE"])
    weights: list[float] = field(default_factory=list)


@dataclass
class TrainConfig:
    """``TRAIN``; ``PATCHES_PER_EPOCH`` 0 means one pass over the training voxels;
    ``COMPILE`` trains through ``torch.compile`` (a warm-up of a minute or so, then often
    faster on CUDA; on the CPU it needs a C++ compiler).

    ``PATIENCE``: epochs without improvement of ``CHECKPOINT_MONITOR`` before stopping;
    -1 (BiaPy) never stops early. ``OPT_BETAS`` are Adam/AdamW's betas.
    """

    enable: bool = True
    epochs: int = 100
    patience: int = 20
    batch_size: int = 8
    lr: float = 1e-3
    optimizer: str = "adamw"
    opt_betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    w_decay: float = 1e-4
    patches_per_epoch: int = 0
    amp: bool = True
    compile: bool = False
    lr_scheduler: LRSchedulerConfig = field(default_factory=LRSchedulerConfig)
