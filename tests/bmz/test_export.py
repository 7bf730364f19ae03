"""Exported packages: bioimageio.spec validates them, bioimageio.core's model test passes on
the CPU, and the zoo's tiled whole-image prediction matches this project's own."""

import ast
import sys
import zipfile

import bioimageio.core
import numpy as np
import pytest
import tifffile
import yaml
from bioimageio.core import Tensor, predict
from bioimageio.spec import load_model_description

from i2i_nb.bmz.source import ALLOWED_ROOTS
from i2i_nb.model import Model


def _rdf(package):
    if package.suffix == ".zip":
        with zipfile.ZipFile(package) as archive:
            return yaml.safe_load(archive.read("rdf.yaml")), set(archive.namelist())
    return yaml.safe_load((package / "rdf.yaml").read_text()), {p.name for p in package.iterdir()}


@pytest.fixture(params=[2, 3])
def case(request, run_2d, data_2d, package_3d, data_3d):
    """(package, its model, a test image, its data folder) in 2D and 3D."""
    if request.param == 2:
        cfg, result, package = run_2d
        model, data = Model.from_checkpoint(result.paths.checkpoint("best")), data_2d
    else:
        package, data = package_3d, data_3d
        model = Model.from_bmz(package)
    return package, model, tifffile.imread(data / "test/x/img-001.tif"), data


def test_package_is_valid_and_passes_the_core_test(case):
    package, model, _, _ = case
    descr = load_model_description(package)
    assert descr.validation_summary.status in ("passed", "valid-format")
    summary = bioimageio.core.test_model(package, devices=["cpu"])
    assert summary.status == "passed", summary.format()
    rdf, names = _rdf(package)
    assert {"README.md", "cover.png", "test_input.npy", "test_output.npy", "weights.pt",
            "weights_torchscript.pt", "i2i_nb_network.py"} <= names
    assert set(rdf["weights"]) == {"pytorch_state_dict", "torchscript"}
    (inp,), (out,) = rdf["inputs"], rdf["outputs"]
    assert inp["pad"] == {"mode": "reflect"}
    assert [p["id"] for p in inp["preprocessing"]][1:-1] == ["fixed_zero_mean_unit_variance"]
    assert [p["id"] for p in out["postprocessing"]][:-1] == ["scale_linear"]
    spatial = [a for a in inp["axes"] if a.get("type") == "space"]
    halos = [a["halo"] for a in out["axes"] if a.get("type") == "space"]
    for axis, halo, d, h in zip(spatial, halos, model.divisor, model.halo, strict=True):
        assert axis["size"]["step"] == d and axis["size"]["min"] % d == 0
        assert halo >= h and halo % d == 0 and axis["size"]["min"] > 2 * halo


def test_architecture_file_imports_only_torch(case):
    package, *_ = case
    if package.suffix == ".zip":
        source = zipfile.ZipFile(package).read("i2i_nb_network.py").decode()
    else:
        source = (package / "i2i_nb_network.py").read_text()
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    assert roots <= ALLOWED_ROOTS and "i2i_nb" not in roots
    assert "torch" in roots


def test_zoo_tiled_prediction_matches_ours(case):
    """bioimageio.core predicts the whole test image in blocks with the package's halo; this
    project predicts it in tiles overlapping by twice that halo, and in one padded tile."""
    package, model, image, _ = case
    ndim = model.ndim
    descr = load_model_description(package)
    halo = [a.halo for a in descr.outputs[0].axes if a.type == "space"]
    dims = ("batch", "channel", *"zyx"[-ndim:])
    x = Tensor(image[None, None].astype(np.float32), dims=dims)
    blocks = {("raw", "z"): 2, ("raw", "y"): 5, ("raw", "x"): 5}  # several blocks per axis
    zoo = predict(model=descr, inputs={"raw": x}, blocksize_parameter={
        k: n for k, n in blocks.items() if k[1] in dims})
    zoo = zoo.members["prediction"].data.to_numpy()[0, 0]
    tiled = model.predict(image, tile_shape=[2 * h + max(d, 2) for h, d in
                                             zip(halo, model.divisor, strict=True)],
                          overlap=[2 * h for h in halo])
    whole = model.predict(image, tile_shape=[2 * s for s in image.shape])
    span = float(whole.max() - whole.min())
    diff_tiled, diff_whole = float(np.abs(zoo - tiled).max()), float(np.abs(zoo - whole).max())
    print(f"\n{ndim}D bioimageio.core blocks (halo {tuple(halo)}) vs i2i_nb: max abs diff "
          f"{diff_tiled:.4g} (tiles overlapping by 2 halos), {diff_whole:.4g} (one padded tile); "
          f"output range {span:.4g}", file=sys.stderr)
    assert zoo.shape == whole.shape == image.shape
    assert diff_tiled <= 5e-3 * span  # our blend weighs tiles with less context a little
    assert diff_whole <= 1e-4 * span


def test_readme_reports_training_metrics_and_validation(run_2d):
    _, _, package = run_2d
    text = zipfile.ZipFile(package).read("README.md").decode()
    rdf, _ = _rdf(package)
    assert rdf["name"] == "tiny denoiser 2D" and rdf["authors"] == [{"name": "Ada"}]
    assert "denoising" in rdf["tags"] and rdf["license"] == "CC-BY-4.0"
    assert "## Validation" in text and "`test_model` on the CPU: passed" in text
    assert "input PSNR" in text and "mean of 2 test image(s)" in text
    assert "train/x" in text

