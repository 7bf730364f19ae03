"""Child of the ``zarr`` section: one prediction of a 3D volume, in a fresh process.

``python -m bench.zarr_predict SPEC`` (or under torchrun, one rank per process): mode
``zarr`` predicts an OME-Zarr block by block into an OME-Zarr (``TEST.BY_CHUNKS``, blocks
shared by the ranks), mode ``tiff`` a memory-mapped TIFF from disk to disk
(``TEST.ON_DISK: always``). The network is :class:`~bench.common.StandIn` (the engine is
measured) or, with ``"unet": true``, a small U-Net (the network's cost dominates, as it
does in real use). Rank 0 prints the seconds, the peaks and, for the stand-in, the largest
distance of a block of the output to the exact answer.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bench.common import AnonPeak, StandIn, default_model, peak_rss_bytes
from bench.ooc_predict import MEAN, STD, TARGET, _meta
from i2i_nb import inference
from i2i_nb.blockwise import BlockSettings
from i2i_nb.data.io import PixelSize, read_image, slab_ranges
from i2i_nb.data.io.zarr import create_ome_zarr
from i2i_nb.data.pairs import Pair
from i2i_nb.distributed import start, stop, world_from_env


def tiff_to_zarr(source: Path, dest: Path, chunks: tuple[int, ...]) -> int:
    """Copy a 3D TIFF into an OME-Zarr (default compression, ``chunks``), slab by slab;
    returns the bytes of the store on disk."""
    image = read_image(source, 3, memmap=True)
    array = create_ome_zarr(dest, image.shape, image.dtype, 3, chunks,
                            PixelSize.of([1.0, 0.5, 0.5], "um"))
    for block in slab_ranges(image, multiple=chunks[0]):
        array[(slice(None), block)] = np.moveaxis(np.asarray(image[block]), -1, 0)
    return sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())


def _distance(out: Path, source: Path) -> float:
    """Largest distance of a central block of the output to the stand-in's exact answer."""
    raw, pred = read_image(source, 3, memmap=True), read_image(out, 3, memmap=True)
    z, y, x = (s // 2 for s in raw.shape[:-1])
    box = tuple(slice(max(0, c - h), c + h) for c, h in zip((z, y, x), (8, 64, 64), strict=True))
    exact = (np.asarray(raw[box], np.float64) - MEAN) / STD * TARGET["scale"][0] \
        + TARGET["offset"][0]
    return float(np.abs(np.asarray(pred[box], np.float64) - exact).max())


def child(spec: dict) -> dict:
    """Predict ``spec["input"]`` into ``spec["out_dir"]`` as ``spec["mode"]`` says."""
    torch.set_num_threads(spec["threads"])
    world = world_from_env(os.environ)
    start(world, torch.device("cpu"))
    sampler = AnonPeak(0.005)
    patch = tuple(spec["patch"])
    model = (default_model(3, patch, (4, 8, 16, 32)) if spec.get("unet") else StandIn(3, patch))
    model.eval()
    source, out_dir = Path(spec["input"]), Path(spec["out_dir"])
    zarr_mode = spec["mode"] == "zarr"
    began = time.perf_counter()
    rows = inference.predict_pairs(
        model, _meta(), [Pair((source,), None)], out_dir, tuple(spec["tile"]), None,
        spec["tiles_per_batch"], torch.device("cpu"), on_disk="always",
        by_chunks=BlockSettings(tuple(spec.get("block", ()))) if zarr_mode else None, world=world)
    seconds = time.perf_counter() - began
    stop()
    result = {"seconds": seconds, "peak_rss": peak_rss_bytes(), "peak_anon": sampler.stop(),
              "rank": world.rank, "processes": world.size}
    if world.is_main and not spec.get("unet"):
        result["distance"] = _distance(out_dir / rows[0]["file"], source)
    return result


if __name__ == "__main__":
    outcome = child(json.loads(sys.argv[1]))
    if outcome["rank"] == 0:
        print(json.dumps(outcome))
