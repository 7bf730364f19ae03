"""Block-wise prediction (``TEST.BY_CHUNKS``): equal to the whole-image prediction, shared by
jobs (z ranges) and torchrun processes, resumed after a SIGKILL."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import zarr

from i2i_nb.blockwise import RECORD
from i2i_nb.config import save_config
from i2i_nb.data.io import read_image, read_pixel_size, write_image
from i2i_nb.errors import DataError
from i2i_nb.experiment import run
from tests.integration.conftest import tiny_config, write_pairs
from tests.integration.formats import SIZE_3D, convert

CPU = torch.device("cpu")
SHAPE = (12, 40, 44)  # blocks of (4, 16, 16): 3 x 3 x 3 = 27


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("blocks")
    root = tmp / "data"
    write_pairs(root, "train", 3, (8, 24, 24), seed=1)
    write_pairs(root, "test", 1, SHAPE, seed=2)
    source = root / "test/x/img-000.tif"
    write_image(source, read_image(source, 3), 3, SIZE_3D)
    result = run(tiny_config(root, 3, TEST={"ENABLE": False}), tmp / "out", "train", 1, CPU)
    return tmp, convert(root, "ome", 3), result.paths.checkpoint("best")


@pytest.fixture(scope="module")
def whole(trained):
    """The whole-image prediction (not block-wise) as OME-Zarr, and its metrics."""
    tmp, data, checkpoint = trained
    result = run(_config(data, checkpoint, BY_CHUNKS={"ENABLE": False}, OUTPUT_FORMAT="zarr"),
                 tmp / "out", "whole", 1, CPU)
    return _read(_output(tmp, "whole")), result.test_rows[0]


def _config(data, checkpoint, preprocess=None, **test):
    chunks = {"ENABLE": True, "BLOCK_SHAPE": [4, 16, 16], **test.pop("BY_CHUNKS", {})}
    return tiny_config(data, 3, TRAIN={"ENABLE": False}, MODEL={"LOAD_CHECKPOINT": True},
                       PATHS={"CHECKPOINT_FILE": str(checkpoint)},
                       DATA={"TEST": {"PATH": str(data / "test/x"),
                                      "GT_PATH": str(data / "test/y"),
                                      "TILE_SHAPE": [4, 16, 16]},
                             **({"PREPROCESS": preprocess} if preprocess else {})},
                       TEST={"BY_CHUNKS": chunks, "TILES_PER_BATCH": 1, **test})


def _output(tmp, name):
    return tmp / "out" / name / "results" / f"{name}_1" / "per_image" / "img-000.zarr"


def _read(store):
    return np.asarray(zarr.open_group(str(store), mode="r")["0"])


def test_blocks_equal_the_whole_image_and_jobs_share_them(trained, whole):
    tmp, data, checkpoint = trained
    expected, row = whole
    one = run(_config(data, checkpoint), tmp / "out", "one", 1, CPU)
    np.testing.assert_array_equal(_read(_output(tmp, "one")), expected)
    assert one.test_rows[0]["psnr"] == pytest.approx(row["psnr"], rel=1e-12)
    assert read_pixel_size(_output(tmp, "one"), 3).sizes == SIZE_3D.sizes
    assert (_output(tmp, "one") / "0/0/0/0/0").is_file()  # the chunk file made durable
    # two cluster jobs, each a z range, into the same output: no metrics until both are done
    first = run(_config(data, checkpoint, BY_CHUNKS={"Z_START": 0, "Z_END": 6}), tmp / "out",
                "jobs", 1, CPU)
    assert "psnr" not in first.test_rows[0]
    assert len(list((_output(tmp, "jobs") / RECORD).glob("*.done"))) == 18  # z 0 and 4
    second = run(_config(data, checkpoint, BY_CHUNKS={"Z_START": 6}), tmp / "out", "jobs", 1,
                 CPU)
    np.testing.assert_array_equal(_read(_output(tmp, "jobs")), expected)
    assert second.test_rows[0]["psnr"] == pytest.approx(one.test_rows[0]["psnr"], rel=1e-12)


def test_a_zoomed_run_writes_the_zoomed_shape_and_pixel_size(trained):
    """DATA.PREPROCESS.ZOOM through the CLI config (factors of BiaPy's default TZCYX)."""
    tmp, data, checkpoint = trained
    zoom = {"ZOOM": {"ENABLE": True, "ZOOM_FACTOR": [1, 1, 1, 2, 2]}}
    result = run(_config(data, checkpoint, zoom), tmp / "out", "zoom", 1, CPU)
    assert _read(_output(tmp, "zoom")).shape == (1, 12, 80, 88)
    z, y, x = SIZE_3D.sizes
    assert read_pixel_size(_output(tmp, "zoom"), 3).sizes == pytest.approx((z, y / 2, x / 2))
    assert np.isfinite(result.test_rows[0]["psnr"])


def test_a_store_of_another_prediction_is_refused(trained):
    tmp, data, checkpoint = trained
    run(_config(data, checkpoint), tmp / "out", "other", 1, CPU)
    with pytest.raises(DataError, match="img-000.zarr: holds another prediction"):
        run(_config(data, checkpoint, OUTPUT_DTYPE="uint16"), tmp / "out", "other", 1, CPU)


def _cli(config, result_dir, name, processes=1, wait=True):
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                f"--nproc_per_node={processes}"] if processes > 1 else [sys.executable]
    argv = [*launcher, "-m", "i2i_nb", "--config", str(config), "--result_dir",
            str(result_dir), "--name", name, "--gpu", "cpu", "--dist_timeout", "60"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if not wait:
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=env)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_two_torchrun_processes_write_the_single_process_output(trained, whole):
    tmp, data, checkpoint = trained
    config = tmp / "blocks.yaml"
    save_config(_config(data, checkpoint), config)
    out = _cli(config, tmp / "out", "cli2", processes=2)
    assert "(rank 1): blocks 13 predicted" in out and "(rank 0): blocks 14 predicted" in out
    np.testing.assert_array_equal(_read(_output(tmp, "cli2")), whole[0])
    metrics = (tmp / "out/cli2/results/cli2_1/test_metrics.csv").read_text().splitlines()
    assert metrics[1].startswith("img-000.zarr,")


def test_a_killed_job_resumes_where_it_stopped(trained, whole):
    tmp, data, checkpoint = trained
    config = tmp / "kill.yaml"
    # 45 blocks of 4 x 8 x 16 voxels: seconds of work, so the kill lands mid-way
    save_config(_config(data, checkpoint, BY_CHUNKS={"BLOCK_SHAPE": [4, 8, 16]}), config)
    record = _output(tmp, "killed") / RECORD
    job = _cli(config, tmp / "out", "killed", wait=False)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and job.poll() is None and (
            not record.exists() or len(list(record.glob("*.done"))) < 3):
        time.sleep(0.005)
    job.send_signal(signal.SIGKILL)
    job.communicate(timeout=60)
    assert job.returncode == -signal.SIGKILL
    finished = sorted(int(p.stem) for p in record.glob("*.done"))
    counts = (3, 5, 3)
    assert 3 <= len(finished) < np.prod(counts) - 1, "the kill did not land mid-way"
    reference = whole[0]
    partial = _read(_output(tmp, "killed"))
    for index in finished:  # every block recorded as done holds its final values
        z, y, x = np.unravel_index(index, counts)
        box = (slice(None), slice(4 * z, 4 * z + 4), slice(8 * y, 8 * y + 8),
               slice(16 * x, 16 * x + 16))
        np.testing.assert_array_equal(partial[box], reference[box])
    out = _cli(config, tmp / "out", "killed")
    assert f"{len(finished)} already done" in out
    np.testing.assert_array_equal(_read(_output(tmp, "killed")), reference)
