"""``SYSTEM`` and ``PATHS``: resources, seed, and files outside the results tree."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SystemConfig:
    """``SYSTEM``.

    ``NUM_CPUS`` bounds the threads torch uses (-1: every core this process may run on);
    ``NUM_WORKERS`` the data-loading processes (-1: automatic, 0: none). ``NUM_GPUS``
    (BiaPy derives it from ``--gpu``) and ``DEVICE`` (the device used when no GPU is
    chosen: ``cpu``, or ``mps`` / ``xpu`` where torch has them).
    """

    seed: int = 0
    num_cpus: int = -1
    num_workers: int = 0
    num_gpus: int = 0
    device: str = "cpu"
    pin_mem: bool = True


@dataclass
class PathsConfig:
    """``PATHS``: ``CHECKPOINT_FILE`` is the checkpoint ``MODEL.LOAD_CHECKPOINT`` loads;
    ``BMZ_EXPORT_PATH`` the folder of ``MODEL.BMZ.EXPORT``'s package (default
    ``results/<name>_<run_id>/BMZ_files``)."""

    checkpoint_file: str = ""
    bmz_export_path: str = ""
