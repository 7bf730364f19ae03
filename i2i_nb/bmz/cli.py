"""``i2i-nb export-bmz CHECKPOINT OUT --image TIF [--target TIF]``: a checkpoint to a package."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import yaml

from i2i_nb.bmz.describe import PackageInfo
from i2i_nb.data.io import read_image
from i2i_nb.model import Model


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="i2i-nb export-bmz", description="Write a checkpoint as a bioimage.io model "
        "package (a folder, or a zip when OUT ends in .zip), checked by bioimageio.core.")
    parser.add_argument("checkpoint", type=Path, help="a .pth or .safetensors checkpoint "
                        "written by i2i-nb")
    parser.add_argument("out", type=Path, help="package folder or .zip")
    parser.add_argument("--image", type=Path, required=True,
                        help="a test image: the test tensors, cover and metrics come from it")
    parser.add_argument("--target", type=Path, default=None, help="its target (for metrics)")
    parser.add_argument("--axes", default=None, help="axes of the image file, e.g. CZYX")
    parser.add_argument("--info", type=Path, default=None,
                        help="YAML with MODEL.BMZ.EXPORT keys (MODEL_NAME, AUTHORS, ...)")
    parser.add_argument("--no-validate", dest="validate", action="store_false",
                        help="skip bioimageio.core's model test")
    return parser


def _info(path: Path | None) -> PackageInfo:
    """``MODEL.BMZ.EXPORT`` keys of a YAML (a whole config, or the section alone)."""
    if path is None:
        return PackageInfo()
    from i2i_nb.bmz.runs import package_info
    from i2i_nb.config import config_from_dict, load_config

    values = yaml.safe_load(path.read_text()) or {}
    cfg = load_config(path) if "MODEL" in values else config_from_dict(
        {"MODEL": {"BMZ": {"EXPORT": values}}})
    return package_info(cfg, None)


def export_command(argv: Sequence[str]) -> int:
    """Run the sub-command; errors are raised as ConfigError/DataError for the CLI."""
    args = _parser().parse_args(list(argv))
    model = Model.from_checkpoint(args.checkpoint)
    image = read_image(args.image, model.ndim, args.axes)
    target = read_image(args.target, model.ndim, None) if args.target else None
    result = model.export(args.out, image, target, _info(args.info), validate=args.validate)
    for line in [*result.validation, *result.notes]:
        print(line)
    print(f"package: {result.path}")
    return 0
