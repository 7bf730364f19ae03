"""Export the trained model to the BioImage Model Zoo from the notebook (one call)."""

from __future__ import annotations

from pathlib import Path

from i2i_nb.bmz.export import ExportResult
from i2i_nb.bmz.runs import export_after_run, export_path
from i2i_nb.config import Config
from i2i_nb.data.pairs import find_pairs
from i2i_nb.errors import ConfigError
from i2i_nb.experiment import RunResult, load_test_checkpoint
from i2i_nb.notebook.environment import in_colab


def export_model(result: RunResult | None, cfg: Config) -> ExportResult:
    """Write this session's best model as a bioimage.io package (a zip in the run's
    ``BMZ_files/``, or ``PATHS.BMZ_EXPORT_PATH``), checked by bioimageio.core, with the
    first test image as its test tensors; name, authors, licence... from
    ``MODEL.BMZ.EXPORT.*`` (the form's YAML) or defaults. In Colab the zip is downloaded."""
    if result is None:
        raise ConfigError("no run in this session: run the training section first")
    d = cfg.data.test
    pairs = find_pairs(Path(d.path), Path(d.gt_path) if d.load_gt and d.gt_path else None)
    payload = load_test_checkpoint(cfg, result.paths)
    exported = export_after_run(cfg, payload, None, pairs, result.test_rows,
                                result.paths.run_dir, result.paths.prefix)
    for line in [*exported.validation, *exported.notes]:
        print(line)
    print("Open it in Fiji/deepImageJ, ilastik, napari or QuPath, or load it back with "
          f"i2i_nb.Model.load({str(exported.path)!r}).")
    if in_colab():
        from google.colab import files

        files.download(str(exported.path))
    return exported


__all__ = ["export_model", "export_path"]
