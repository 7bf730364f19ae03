"""Out of core, prediction: ``predict_pairs(on_disk="auto")`` on a volume larger than memory.

The parent writes an uncompressed float32 3D TIFF (drops it from the page cache) and runs
:func:`child` in a fresh process (``python -m bench.ooc_predict SPEC``) under the memory
limit.  The child builds :class:`~bench.common.StandIn` (the default U-Net's tiles, nearly
no cost: the engine is measured, not a network) and the ``meta`` of a checkpoint with
dataset input statistics, predicts the file with ``on_disk="auto"`` (recording whether the
disk path was taken), then checks the output file: its shape, finite values in a few
slices, and a block against the same block predicted in memory and against the exact
answer (the stand-in is pointwise: the prediction is the normalised input mapped to target
units).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import tifffile
import torch

from bench.common import AnonPeak, StandIn, peak_rss_bytes
from bench.limit import drop_cache
from i2i_nb import inference
from i2i_nb.data.io import read_image
from i2i_nb.data.normalize import DatasetScaler, input_normalization, normalize_like
from i2i_nb.data.pairs import Pair
from i2i_nb.predict import predict_image

MEAN, STD = 1000.0, 50.0  # of the input volume's values
TARGET = {"method": "zero_mean_unit_variance", "offset": [500.0], "scale": [20.0]}


def write_volume(path: Path, shape: tuple[int, ...], seed: int = 0) -> int:
    """An uncompressed float32 (BigTIFF) volume of N(MEAN, STD) values, written a slab at a
    time and dropped from the page cache; returns its size in bytes."""
    rng = np.random.default_rng(seed)
    image = tifffile.memmap(path, shape=tuple(shape), dtype=np.float32, bigtiff=True,
                            photometric="minisblack", metadata={"axes": "ZYX"})
    step = max(1, (64 << 20) // image[0].nbytes)
    for z in range(0, shape[0], step):
        slab = rng.standard_normal(image[z:z + step].shape, np.float32)
        slab *= np.float32(STD)
        slab += np.float32(MEAN)
        image[z:z + step] = slab
    image.flush()
    size = image.nbytes
    del image
    drop_cache(path)
    return size


def _meta() -> dict:
    spec = input_normalization(
        "zero_mean_unit_variance", 1.0, 99.8, False,
        DatasetScaler("zero_mean_unit_variance", [MEAN], [STD]))
    return {"architecture": "stand-in", "ndim": 3, "in_channels": 1, "out_channels": 1,
            "input_normalization": spec, "target_scaler": TARGET, "target_dtype": "float32"}


def _check(model: StandIn, meta: dict, source: Path, result: Path, spec: dict) -> dict:
    """Shape, finiteness of a few slices, and a block against in-memory and exact values."""
    raw = read_image(source, 3, memmap=True)
    out = read_image(result, 3, memmap=True)
    depth = raw.shape[0]
    finite = all(bool(np.isfinite(out[z]).all()) for z in (0, depth // 2, depth - 1))
    z0, y0, x0 = depth // 2 - 8, raw.shape[1] // 3, raw.shape[2] // 3
    block = (slice(max(0, z0), z0 + 16), slice(y0, y0 + 256), slice(x0, x0 + 256))
    x = np.asarray(raw[block])
    memory = predict_image(model, normalize_like(x, meta["input_normalization"]),
                           tuple(spec["tile"]), batch_size=spec["tiles_per_batch"])
    memory = DatasetScaler.from_dict(TARGET).inverse(memory)
    exact = (x.astype(np.float64) - MEAN) / STD * TARGET["scale"][0] + TARGET["offset"][0]
    disk = np.asarray(out[block], dtype=np.float64)
    return {"shape_ok": out.shape == raw.shape[:-1] + (1,) and out.dtype == np.float32,
            "finite": finite, "vs_memory": float(np.abs(disk - memory).max()),
            "vs_exact": float(np.abs(disk - exact).max())}


def child(spec: dict) -> dict:
    """Predict ``spec["input"]`` into ``spec["out_dir"]``; peaks in bytes, checks."""
    torch.set_num_threads(spec["threads"])
    sampler = AnonPeak(0.005)
    chosen, originals = [], (inference.available_memory, inference._predict_on_disk)

    def spy(*args: object, **kwargs: object) -> dict:
        chosen.append("disk")
        return originals[1](*args, **kwargs)

    inference._predict_on_disk = spy
    if not spec["enforced"]:  # decide as the limit would (else the machine's memory decides)
        inference.available_memory = lambda: max(0, spec["limit"] - peak_rss_bytes())
    try:
        model, meta = StandIn(3, spec["patch"]).eval(), _meta()
        source, out_dir = Path(spec["input"]), Path(spec["out_dir"])
        available = inference.available_memory()
        began = time.perf_counter()
        inference.predict_pairs(model, meta, [Pair((source,), None)], out_dir,
                                tuple(spec["tile"]), None, spec["tiles_per_batch"],
                                torch.device("cpu"), on_disk="auto")
        seconds = time.perf_counter() - began
    finally:
        inference.available_memory, inference._predict_on_disk = originals
    anon, rss = sampler.stop(), peak_rss_bytes()
    return {"seconds": seconds, "peak_rss": rss, "peak_anon": anon, "available": available,
            "on_disk": bool(chosen), **_check(model, meta, source, out_dir / source.name, spec)}

if __name__ == "__main__":
    print(json.dumps(child(json.loads(sys.argv[1]))))
