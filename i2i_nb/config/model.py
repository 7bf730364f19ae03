"""``MODEL``: the network and the checkpoint it starts from."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ModelConfig:
    """``MODEL``; an empty (or all-zero, as BiaPy) ``Z_DOWN`` pools z only while the patch is
    deep enough.

    ``NORMALIZATION`` defaults to ``none`` (as CARE): batch normalisation's running
    statistics made 3D predictions worse than the input on the demo data (17.1 dB
    against 24.7 dB without it, identity 18.1 dB).

    ``LOAD_CHECKPOINT`` starts from ``PATHS.CHECKPOINT_FILE`` (or, without it, this job's
    checkpoint chosen by ``LOAD_CHECKPOINT_EPOCH``: ``best_on_val`` or ``last_on_train``);
    ``ITEMS_TO_LOAD_FROM_CHECKPOINT`` says what is taken from it when training goes on
    (``weights``, ``norm``: its normalisation statistics, ``model_arch``: its network,
    ``optimizer``, ``epoch``). ``SAVE_CKPT_FREQ`` keeps every N-th epoch's checkpoint too
    (-1: only best and last).
    """

    source: str = "biapy"
    architecture: str = "unet"
    feature_maps: list[int] = field(default_factory=lambda: [32, 64, 128, 256])
    z_down: list[int] = field(default_factory=list)
    dropout_values: list[float] = field(default_factory=lambda: [0.0] * 4)
    normalization: str = "none"
    residual: bool = False
    load_checkpoint: bool = False
    load_checkpoint_epoch: str = "best_on_val"
    items_to_load_from_checkpoint: list[str] = field(
        default_factory=lambda: ["weights", "norm", "model_arch"])
    save_ckpt_freq: int = -1
