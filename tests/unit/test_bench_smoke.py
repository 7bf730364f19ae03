"""The benchmark suite still runs (one section at a trivial size; no timing is checked)."""

import pytest
import torch

from bench import tiled
from bench.__main__ import SECTIONS
from bench.common import Sizes, default_model, table

TINY = Sizes(True, {2: (32, 32), 3: (4, 16, 16)}, {2: (48, 48), 3: (4, 24, 24)}, {2: 2, 3: 2},
             {2: (40, 40), 3: (4, 20, 20)}, {2: (40, 40), 3: (4, 20, 20)}, rounds=1, steps=1)


@pytest.fixture
def one_thread():
    """Tiny tensors on a busy 2-core machine: two threads only wait on each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_tiled_section_runs_and_tabulates(one_thread, monkeypatch):
    thin = (4, 8, 16, 32)  # the default depth (same tiles), a fraction of the cost
    monkeypatch.setattr(tiled, "default_model", lambda nd, patch: default_model(nd, patch, thin))
    rows = tiled.run(TINY)
    assert len(rows) == 4 and all(row.section == "tiled" for row in rows)
    assert all(float(row.value.split()[0]) > 0 for row in rows)
    text = table(rows)
    assert text.splitlines()[0].startswith("section") and len(text.splitlines()) == 6
    assert set(SECTIONS) == {"training", "tiled", "monai", "memory", "scaling", "ooc", "levers",
                            "epochs", "augment", "zarr"}


def test_ooc_children_run_without_a_limit(one_thread, tmp_path, monkeypatch):
    """The out-of-core children at a tiny size, in this process (no control group)."""
    from bench import limit, ooc_predict, ooc_train
    from i2i_nb import inference

    source = tmp_path / "volume.tif"
    ooc_predict.write_volume(source, (12, 40, 40))
    available = inference.available_memory
    m = ooc_predict.child({"input": str(source), "out_dir": str(tmp_path / "out"),
                           "patch": (4, 16, 16), "tile": (4, 32, 32), "tiles_per_batch": 2,
                           "limit": 1, "enforced": False, "threads": 1})
    assert inference.available_memory is available  # the child's patches are undone
    assert m["on_disk"] and m["shape_ok"] and m["finite"]
    assert m["vs_exact"] < 1e-3 and m["vs_memory"] < 1e-3
    ooc_train.write_pairs(tmp_path / "data", 4 * 64 * 64 * 2, 64)
    m = ooc_train.child({"data": str(tmp_path / "data"), "results": str(tmp_path / "results"),
                         "patch": 32, "in_memory": False, "threads": 1})
    assert m["epochs"] == 3 and m["peak_anon"] > 0
    monkeypatch.setattr(limit, "_candidates", lambda: iter(()))
    with limit.MemoryLimit(1 << 30) as group:
        assert not group.enforced and "NOT enforced" in group.describe()
        outcome = group.run(["true"], tmp_path)
    assert outcome.returncode == 0 and outcome.group_peak is None


def test_biapy_comparison_config_and_log_parsing(tmp_path):
    """The YAML both tools read is a valid i2i_nb config; BiaPy's epoch times are parsed."""
    import warnings

    from bench import biapy_cmp
    from i2i_nb.config import load_config

    for case in biapy_cmp.cases(quick=True):
        path = tmp_path / f"{case.ndim}.yaml"
        biapy_cmp.write_config(case, tmp_path, path, 2, train=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # keys only BiaPy reads
            cfg = load_config(path)
        assert cfg.ndim == case.ndim and cfg.system.num_cpus == 2 and cfg.train.epochs
    log = "[14:11:36.929895] [Time] 11.2s 11.2s/1.3m\nEpoch: [2]\n[Time] 1.5m 2.7m/4.5m\n"
    assert biapy_cmp._biapy_epochs(log) == [11.2, 90.0]
    its = ("[t] Epoch: [1] Total time: 0:00:13 (4.5185 s / it)\n"
           "[t] Epoch: [1] Total time: 0:00:02 (2.1194 s / it)\n"
           "[t] Epoch: [2] Total time: 0:00:11 (3.8914 s / it)\n")
    assert biapy_cmp._biapy_step_seconds(its) == [4.5185, 3.8914]  # training loops only
    ours = "Training unet (2D, 1 -> 1 channels) on 3 image(s); 32 patches of (128, 128) per epoch"
    assert biapy_cmp._ours_steps_per_epoch(ours, 4) == 8


def test_augment_section_runs(one_thread, monkeypatch):
    from bench import augment

    monkeypatch.setattr(augment, "PATCHES", 2)
    monkeypatch.setattr(augment, "_monai_rows", lambda ndim, patches, ms: [])
    rows = augment.run(TINY)
    assert len(rows) == 2 * (len(augment.KEYS) + 1)
    assert all(float(row.value.split()[0]) > 0 for row in rows)


def test_zarr_child_runs_both_modes(one_thread, tmp_path):
    """The ``zarr`` section's child at a tiny size, in this process (no torchrun)."""
    from bench import ooc_predict, zarr_predict

    source = tmp_path / "volume.tif"
    ooc_predict.write_volume(source, (12, 40, 40))
    assert zarr_predict.tiff_to_zarr(source, tmp_path / "volume.zarr", (8, 16, 16)) > 0
    spec = {"patch": (4, 16, 16), "tile": (4, 32, 32), "tiles_per_batch": 2, "threads": 1}
    for mode, name in (("tiff", "volume.tif"), ("zarr", "volume.zarr")):
        m = zarr_predict.child({**spec, "mode": mode, "input": str(tmp_path / name),
                                "out_dir": str(tmp_path / mode), "block": (8, 16, 16)})
        assert m["distance"] < 1e-3 and m["processes"] == 1
