"""Every input normalisation (dataset or per image, clipped or not) and the target scaling,
as the zoo's pre/post-processing, give this project's prediction (bioimageio.core measures
per-image statistics on the whole sample when it predicts in blocks)."""

import copy

import numpy as np
import pytest
import tifffile
from bioimageio.core import Tensor, predict
from bioimageio.spec import load_model_description

from i2i_nb.data.normalize import DatasetScaler
from i2i_nb.model import Model

DATASET = DatasetScaler("percentile", [0.1], [0.5]).to_dict()


@pytest.mark.parametrize("kind, clip, dataset, target", [
    ("percentile", False, None, "percentile"),
    ("percentile", True, DATASET, "percentile"),
    ("zero_mean_unit_variance", False, None, "zero_mean_unit_variance"),
    ("zero_mean_unit_variance", True, None, "none"),
    ("scale_range", False, None, "percentile"),
    ("div", False, None, "percentile"),
    ("none", False, None, "none"),
])
def test_zoo_processing_equals_ours(run_2d, data_2d, tmp_path, kind, clip, dataset, target):
    _, result, _ = run_2d
    payload = copy.deepcopy(Model.from_checkpoint(result.paths.checkpoint("best")).payload)
    payload["meta"]["input_normalization"] = {"type": kind, "p_low": 2.0, "p_high": 99.0,
                                              "clip": clip, "dataset": dataset}
    if kind == "div":  # trained on 16-bit inputs: the package divides by 65535
        payload["meta"]["input_dtype"] = "uint16"
    if target == "none":
        payload["meta"]["target_scaler"] = DatasetScaler("none", [0.0], [1.0]).to_dict()
    model = Model(payload)
    image = tifffile.imread(data_2d / "test/x/img-001.tif")
    image = (1000 * image + 200).astype(np.uint16) if kind == "div" else image
    model.export(tmp_path / "p", image, validate=False)
    x = Tensor(image[None, None].astype(np.float32), dims=("batch", "channel", "y", "x"))
    zoo = predict(model=load_model_description(tmp_path / "p"), inputs={"raw": x},
                  blocksize_parameter=10)
    zoo = zoo.members["prediction"].data.to_numpy()[0, 0]
    ours = model.predict(image, tile_shape=[2 * s for s in image.shape])
    span = float(ours.max() - ours.min())
    # bioimageio.core takes the statistics of the steps after a clip from the unclipped
    # sample, and blocks/pads after measuring: per-image clipping is close, not equal
    tolerance = 2e-2 if clip else 1e-4
    assert np.abs(zoo - ours).max() <= tolerance * span
