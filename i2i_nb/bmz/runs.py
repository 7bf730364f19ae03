"""The zoo in a run: ``MODEL.SOURCE: bmz`` (predict with or fine-tune a package) and
``MODEL.BMZ.EXPORT`` (write a package at the end, to ``PATHS.BMZ_EXPORT_PATH``)."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from i2i_nb.bmz.load import load_package
from i2i_nb.errors import ConfigError

if TYPE_CHECKING:
    from i2i_nb.bmz.describe import PackageInfo
    from i2i_nb.bmz.export import ExportResult
    from i2i_nb.config import Config
    from i2i_nb.data.pairs import Pair


def source_payload(cfg: Config) -> dict[str, Any] | None:
    """The package of ``MODEL.BMZ.SOURCE_MODEL_ID`` as a checkpoint payload, when
    ``MODEL.SOURCE`` is ``bmz``; refused when its dimensionality is not the config's."""
    if cfg.model.source.lower() != "bmz":
        return None
    source = cfg.model.bmz.source_model_id
    payload = load_package(source)
    if payload["meta"]["ndim"] != cfg.ndim:
        raise ConfigError(f"PROBLEM.NDIM: the package {source} is {payload['meta']['ndim']}D, "
                          f"the config says {cfg.problem.ndim}")
    return payload


def check_export(cfg: Config) -> None:
    """Before anything runs: exporting needs bioimageio.core (the ``[bmz]`` extra) and a
    test image for the package's test tensors."""
    if cfg.model.bmz.export.enable and not cfg.test.enable:
        raise ConfigError("MODEL.BMZ.EXPORT.ENABLE needs TEST.ENABLE: the package's test "
                          "tensors are cut from the first test image")
    if cfg.model.bmz.export.enable and importlib.util.find_spec("bioimageio.core") is None:
        raise ConfigError("MODEL.BMZ.EXPORT.ENABLE needs bioimageio.core, which is not "
                          "installed: pip install 'i2i-nb[bmz]'")
    p = cfg.data.preprocess
    if cfg.model.bmz.export.enable and (p.train or p.test) and p.any_op:
        warnings.warn("MODEL.BMZ.EXPORT: the package holds the network and its normalisation, "
                      "not DATA.PREPROCESS; pre-process images the same way before using it",
                      stacklevel=2)


def package_info(cfg: Config, source: dict[str, Any] | None) -> PackageInfo:
    """``MODEL.BMZ.EXPORT.*`` as a :class:`~i2i_nb.bmz.describe.PackageInfo`; with
    ``REUSE_BMZ_CONFIG`` the loaded package's own name, authors, licence... ."""
    from i2i_nb.bmz.describe import PackageInfo

    e = cfg.model.bmz.export
    if e.reuse_bmz_config and source is not None:
        about = source.get("bmz") or {}
        return PackageInfo(
            name=about.get("name") or "", description=about.get("description") or "",
            authors=[{k: str(v) for k, v in a.items() if v} for a in about.get("authors") or []],
            license=about.get("license") or e.license, tags=list(about.get("tags") or []),
            cite=[{k: str(v) for k, v in c.items() if v} for c in about.get("cite") or []],
            version=str(about.get("version") or e.model_version))
    return PackageInfo(name=e.model_name, description=e.description, authors=list(e.authors),
                       license=e.license, tags=list(e.tags), cite=list(e.cite),
                       version=e.model_version, documentation=e.documentation,
                       dataset_info=dict(e.dataset_info[0]) if e.dataset_info else {})


def export_path(cfg: Config, run_dir: Path, name: str) -> Path:
    """``PATHS.BMZ_EXPORT_PATH`` or ``<run_dir>/BMZ_files``, with the package's zip name."""
    folder = Path(cfg.paths.bmz_export_path) if cfg.paths.bmz_export_path else run_dir / \
        "BMZ_files"
    return folder / f"{name}.zip"


def export_after_run(cfg: Config, payload: dict[str, Any], source: dict[str, Any] | None,
                     pairs: list[Pair], rows: list[dict[str, Any]], run_dir: Path, name: str
                     ) -> ExportResult:
    """Export the run's model with its first test image (and target) as the test tensors
    and the mean test metrics in the README."""
    from i2i_nb.data.io import read_image
    from i2i_nb.metrics_table import mean_row
    from i2i_nb.model import Model

    if not pairs:
        raise ConfigError("MODEL.BMZ.EXPORT.ENABLE needs a test image for the package's test "
                          "tensors: set TEST.ENABLE and DATA.TEST.PATH")
    model = Model(payload, name)
    axes = (cfg.data.axes or None, cfg.data.gt_axes or None)
    pair = pairs[0]
    image = read_image(pair.inputs[0], cfg.ndim, axes[0])
    target = read_image(pair.target, cfg.ndim, axes[1]) if pair.target else None
    metrics = []
    if rows and any("psnr" in row for row in rows):
        metrics = [{**mean_row(rows), "label": f"mean of {len(rows)} test image(s)"}]
    training = f"{cfg.data.train.path} (targets {cfg.data.train.gt_path})" \
        if cfg.train.enable else ""
    out = export_path(cfg, run_dir, name)
    result = model.export(out, image, target, package_info(cfg, source),
                          training_data=training, metrics=metrics)
    print(f"BioImage Model Zoo package: {result.path}")
    return result
