"""The front door: one object to load a trained model, predict arrays, export and train.

>>> model = i2i_nb.Model.load("results/job/checkpoints/job_1-checkpoint-best.pth")
>>> restored = model.predict(image)          # numpy in, numpy out, in the targets' units
>>> model.export("job.zip", image, target)   # a bioimage.io package
>>> model = i2i_nb.Model.train("my.yaml", result_dir="results", name="job")

The CLI's ``export-bmz``, the end-of-run export and the notebooks go through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from i2i_nb.checkpoint import load_checkpoint, model_from_checkpoint
from i2i_nb.data.normalize import DatasetScaler
from i2i_nb.errors import ConfigError, DataError

if TYPE_CHECKING:
    from i2i_nb.bmz.describe import PackageInfo
    from i2i_nb.bmz.export import ExportResult
    from i2i_nb.config import Config
    from i2i_nb.experiment import RunResult


class Model:
    """A trained network with its normalisation: what a checkpoint or a zoo package holds.

    Parameters
    ----------
    payload : dict
        ``{"model": state_dict, "meta": {...}}`` as in a checkpoint.
    source : str or Path, optional
        Where it was read from (named in messages).
    """

    def __init__(self, payload: dict[str, Any], source: str | Path = "") -> None:
        self.payload = payload
        self.source = str(source)
        self.meta: dict[str, Any] = payload["meta"]
        self.network = model_from_checkpoint(payload, source or None).eval()
        self.run: RunResult | None = None

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> Model:
        """A checkpoint written by this tool (read safely: tensors and plain values only)."""
        return cls(load_checkpoint(path), path)

    @classmethod
    def from_bmz(cls, path: str | Path) -> Model:
        """A bioimage.io package (folder, zip or its YAML) that this tool exported; no code
        from the package is run (see :func:`i2i_nb.bmz.load.load_package`)."""
        from i2i_nb.bmz.load import load_package

        return cls(load_package(path), path)

    @classmethod
    def load(cls, path: str | Path) -> Model:
        """A ``.pth``/``.pt``/``.safetensors`` checkpoint, or else a zoo package."""
        if Path(path).suffix.lower() in (".pth", ".pt", ".safetensors"):
            return cls.from_checkpoint(path)
        return cls.from_bmz(path)

    @classmethod
    def train(cls, config: Config | str | Path, result_dir: str | Path = "results",
              name: str = "i2i_experiment", run_id: int = 1, device: str | None = None,
              **run_options: Any) -> Model:
        """Run the config (train, then test when it says so) and load its best checkpoint.

        ``run_options`` go to :func:`i2i_nb.experiment.run` (``resume``, ``on_epoch``...);
        the run's history and test rows are kept in :attr:`run`.
        """
        from i2i_nb.config import Config, load_config
        from i2i_nb.experiment import resolve_device, run

        cfg = config if isinstance(config, Config) else load_config(config)
        result = run(cfg, result_dir, name, run_id, resolve_device(device), **run_options)
        model = cls.from_checkpoint(result.paths.checkpoint("best"))
        model.run = result
        return model

    @property
    def ndim(self) -> int:
        """Spatial dimensions, 2 or 3."""
        return int(self.meta["ndim"])

    @property
    def in_channels(self) -> int:
        """Input channels."""
        return int(self.meta["in_channels"])

    @property
    def out_channels(self) -> int:
        """Output channels."""
        return int(self.meta["out_channels"])

    @property
    def halo(self) -> tuple[int, ...]:
        """Context per spatial axis that tiles need (from the receptive field)."""
        return tuple(self.network.halo)

    @property
    def divisor(self) -> tuple[int, ...]:
        """Input sizes must be multiples of this per spatial axis (tiles are padded to it)."""
        return tuple(self.network.divisor)

    def channel_last(self, image: np.ndarray) -> np.ndarray:
        """``image`` as ``(*spatial, C)``: an array with ``ndim`` axes gets a channel axis.

        Raises
        ------
        DataError
            Wrong number of axes or of channels.
        """
        image = np.asarray(image) if not isinstance(image, np.memmap) else image
        if image.ndim == self.ndim and self.in_channels == 1:
            image = image[..., None]
        if image.ndim != self.ndim + 1 or image.shape[-1] != self.in_channels:
            raise DataError(
                f"image of shape {image.shape}: this {self.ndim}D model takes "
                f"{'(z, y, x' if self.ndim == 3 else '(y, x'}, {self.in_channels}) channel-last"
                + (" or no channel axis" if self.in_channels == 1 else "") + " arrays")
        return image

    def predict(self, image: np.ndarray, tile_shape: Sequence[int] | None = None,
                overlap: Sequence[int] | None = None, batch_size: int = 4,
                device: str | torch.device = "cpu", tta: bool = False,
                tta_group: str = "full") -> np.ndarray:
        """Predict a whole image in overlapping tiles, in the training targets' units.

        Parameters
        ----------
        image : numpy.ndarray
            Raw ``(y, x[, c])`` or ``(z, y, x[, c])`` values, normalised here as in training.
        tile_shape : sequence of int, optional
            Default as the test phase (from the training patch size).
        overlap : sequence of int, optional
            Default twice the halo.
        batch_size : int
            Tiles per forward pass.
        device : str or torch.device
            Where the tiles are computed.
        tta : bool
            Mean over the orientations of ``tta_group``.
        tta_group : str
            BiaPy's ``TEST.AUGMENTATION_GROUP``: ``full`` (``auto``; flips and 90-degree
            rotations: 8 in 2D, 16 in 3D), ``flips`` (4 / 8) or ``none``.

        Returns
        -------
        numpy.ndarray
            float32, the input's spatial shape; channel-last, without the channel axis when
            the input had none and the model has one output channel.
        """
        from i2i_nb.data.normalize import normalize_like
        from i2i_nb.inference import predict_with_retry, tile_settings

        had_channels = np.ndim(image) == self.ndim + 1
        raw = self.channel_last(image)
        if tile_shape is None:
            tile, default_overlap = tile_settings((), (), (), self.meta["patch_size"], False,
                                                  getattr(self.network, "fixed_shape", None))
            overlap = overlap if overlap is not None else default_overlap
        else:
            tile = tuple(int(t) for t in tile_shape)
        network = self.network.to(device)
        normalised = normalize_like(raw, self.meta["input_normalization"])
        prediction = predict_with_retry(network, normalised, self.ndim, tta, tile_shape=tile,
                                        overlap=overlap, batch_size=batch_size, device=device,
                                        tta_group=tta_group.lower())
        prediction = DatasetScaler.from_dict(self.meta["target_scaler"]).inverse(prediction)
        return prediction if had_channels or self.out_channels > 1 else prediction[..., 0]

    def export(self, out: str | Path, image: np.ndarray, target: np.ndarray | None = None,
               info: PackageInfo | None = None, **options: Any) -> ExportResult:
        """Write a bioimage.io model package (a folder, or a zip when ``out`` ends in .zip).

        ``image`` (raw, as :meth:`predict` takes) gives the test tensors and the cover;
        with ``target`` the README reports the metrics beside the identity baseline.
        ``options`` go to :func:`i2i_nb.bmz.export.export_package`. Needs the ``[bmz]``
        extra (bioimageio.core).
        """
        try:
            from i2i_nb.bmz.export import export_package
        except ImportError as err:
            raise ConfigError("exporting to the BioImage Model Zoo needs bioimageio.core: "
                              "pip install 'i2i-nb[bmz]'") from err
        target = None if target is None else self._target(target)
        return export_package(self, out, self.channel_last(image), target, info, **options)

    def _target(self, target: np.ndarray) -> np.ndarray:
        target = np.asarray(target)
        return target[..., None] if target.ndim == self.ndim else target
