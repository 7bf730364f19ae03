"""Block plans, the finished-block record, and 2D block-wise prediction against whole."""

import numpy as np
import pytest
import torch
import zarr

from i2i_nb.blockwise import BlockPlan, BlockRecord, BlockSettings, default_block
from i2i_nb.data.io import write_image
from i2i_nb.data.normalize import DatasetScaler, input_normalization
from i2i_nb.data.pairs import Pair
from i2i_nb.distributed import World
from i2i_nb.inference import predict_pairs
from i2i_nb.models import build_model


def test_z_ranges_and_ranks_partition_the_blocks():
    plan = BlockPlan((10, 7, 5), (4, 4, 5))
    assert plan.counts == (3, 2, 1) and len(plan) == 6
    assert plan.box(5) == (slice(8, 10), slice(4, 7), slice(0, 5))
    jobs = [plan.selected(0, 5), plan.selected(5, 9), plan.selected(9, -1)]
    assert sorted(i for job in jobs for i in job) == list(range(6))
    assert jobs == [[0, 1, 2, 3], [4, 5], []]  # a block belongs to the job holding its start
    ranks = [plan.selected(world=World(r, 2)) for r in (0, 1)]
    assert ranks == [[0, 2, 4], [1, 3, 5]]
    assert default_block((100, 30), (16, 16)) == (32, 30)
    assert default_block((100, 30), None) == (100, 30)


def test_the_record_marks_blocks_atomically(tmp_path):
    (tmp_path / "out.zarr").mkdir()
    record = BlockRecord(tmp_path / "out.zarr")
    assert not record.done(3) and record.count() == 0
    record.mark(3)
    record.mark(3)
    assert record.done(3) and record.count() == 1
    assert not list(record.folder.glob(".*"))  # no temporary left


@pytest.mark.parametrize("dtype", ["float32", "uint16"])
def test_2d_blocks_equal_the_whole_image(tmp_path, dtype):
    torch.manual_seed(0)
    model = build_model("unet", 2, 1, 1, feature_maps=[4, 8]).eval()
    image = np.random.default_rng(0).random((70, 54, 1)).astype(np.float32)
    write_image(tmp_path / "in.tif", image, 2)
    zmuv = "zero_mean_unit_variance"
    meta = {"ndim": 2, "out_channels": 1, "target_dtype": dtype,
            "target_scaler": DatasetScaler("percentile", [10.0], [300.0]).to_dict(),
            "input_normalization": input_normalization(zmuv, 1, 99.8, False,
                                                       DatasetScaler(zmuv, [0.5], [0.3]))}
    common = (model, meta, [Pair((tmp_path / "in.tif",), None)])
    settings = ((16, 16), None, 1, torch.device("cpu"), dtype)
    predict_pairs(*common, tmp_path / "whole", *settings, output_format="zarr")
    predict_pairs(*common, tmp_path / "blocks", *settings,
                  by_chunks=BlockSettings((24, 20)))
    whole = np.asarray(zarr.open_group(str(tmp_path / "whole/in.zarr"))["0"])
    blocks = np.asarray(zarr.open_group(str(tmp_path / "blocks/in.zarr"))["0"])
    assert blocks.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(blocks, whole)
    assert BlockRecord(tmp_path / "blocks/in.zarr").count() == 3 * 3
