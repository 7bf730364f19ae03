"""One typed configuration, split by concern, read from and written to BiaPy-style YAML.

Every section and field is named after BiaPy's key, lower-cased: the YAML key
``DATA.TRAIN.PATH`` is ``cfg.data.train.path``. Sections live in one file each
(:mod:`.problem`, :mod:`.data`, :mod:`.augmentor`, :mod:`.model`, :mod:`.train` with
``LOSS``, :mod:`.test`, :mod:`.system` with ``PATHS``); BiaPy's alternative and old
values are translated in :mod:`.biapy`; why a BiaPy key has no effect is in
:mod:`.notes`; YAML in and out is :mod:`.yaml_io`; the checks are :mod:`.validate` (the
``MODEL`` ones :mod:`.validate_model`).
"""

from i2i_nb.config.augmentor import AugmentorConfig
from i2i_nb.config.data import (
    DataConfig,
    NormalizationConfig,
    PercClipConfig,
    TargetNormalizationConfig,
    TestDataConfig,
    TrainDataConfig,
    ValDataConfig,
)
from i2i_nb.config.model import ModelConfig
from i2i_nb.config.problem import ImageToImageConfig, ProblemConfig
from i2i_nb.config.root import Config
from i2i_nb.config.system import PathsConfig, SystemConfig
from i2i_nb.config.test import ByChunksConfig, TestConfig
from i2i_nb.config.train import LOSSES, LossConfig, LRSchedulerConfig, TrainConfig
from i2i_nb.config.validate import (
    INPUT_NORMALIZATIONS,
    MEASURES,
    OPTIMIZERS,
    OUTPUT_DTYPES,
    SCHEDULERS,
    TARGET_NORMALIZATIONS,
    validate,
)
from i2i_nb.config.validate_model import ARCHITECTURES
from i2i_nb.config.yaml_io import (
    config_from_dict,
    from_plain,
    load_config,
    merge,
    read_yaml,
    save_config,
    to_plain,
)

__all__ = [
    "ByChunksConfig",
    "ARCHITECTURES", "INPUT_NORMALIZATIONS", "LOSSES", "MEASURES", "OPTIMIZERS", "OUTPUT_DTYPES",
    "SCHEDULERS", "TARGET_NORMALIZATIONS", "AugmentorConfig", "Config", "DataConfig",
    "ImageToImageConfig", "LRSchedulerConfig", "LossConfig", "ModelConfig",
    "NormalizationConfig", "PathsConfig", "PercClipConfig", "ProblemConfig", "SystemConfig",
    "TargetNormalizationConfig", "TestConfig", "TestDataConfig", "TrainConfig",
    "TrainDataConfig", "ValDataConfig", "config_from_dict", "from_plain", "load_config",
    "merge", "read_yaml", "save_config", "to_plain", "validate",
]
