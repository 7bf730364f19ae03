"""The whole run's configuration: BiaPy's tree of sections, lower-cased."""

from __future__ import annotations

from dataclasses import dataclass, field

from i2i_nb.config.augmentor import AugmentorConfig
from i2i_nb.config.data import DataConfig
from i2i_nb.config.model import ModelConfig
from i2i_nb.config.problem import ProblemConfig
from i2i_nb.config.system import PathsConfig, SystemConfig
from i2i_nb.config.test import TestConfig
from i2i_nb.config.train import LossConfig, TrainConfig


@dataclass
class Config:
    """The whole run's configuration (BiaPy's tree, lower-cased).

    The YAML key ``DATA.TRAIN.PATH`` is ``cfg.data.train.path``.
    """

    system: SystemConfig = field(default_factory=SystemConfig)
    problem: ProblemConfig = field(default_factory=ProblemConfig)
    data: DataConfig = field(default_factory=DataConfig)
    augmentor: AugmentorConfig = field(default_factory=AugmentorConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    test: TestConfig = field(default_factory=TestConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions, 2 or 3."""
        return 3 if self.problem.ndim.upper() == "3D" else 2

    @property
    def patch_shape(self) -> tuple[int, ...]:
        """Spatial patch size (the channel entry of ``PATCH_SIZE`` dropped)."""
        return tuple(self.data.patch_size[: self.ndim])
