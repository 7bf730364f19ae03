"""Section ``memory``: peak RSS of 3D tiled inference on a large float32 volume, beyond the model.

Each case runs in a fresh subprocess (``python -m bench.memory SPEC``) with the
:class:`~bench.common.StandIn` network (the default U-Net's tiles and overlap, negligible
parameters and activations: the engine's memory alone) and the input volume in memory.
Reported: the rise of the peak RSS (VmHWM, reset just before; ``ru_maxrss`` elsewhere)
during ``predict_image``, in units of the volume's size, for an in-memory output and for
``out=`` a ``tifffile.memmap``.  File-backed memmap pages count in RSS until the kernel
writes them back, so the peak of anonymous memory (RssAnon, sampled) is reported too:
what the process cannot give back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile
import torch

from bench.common import (
    AnonPeak,
    Row,
    Sizes,
    StandIn,
    mib,
    peak_rss_bytes,
    random_image,
    reset_peak,
)
from i2i_nb.config import Config
from i2i_nb.predict import predict_image


def _shape(sz: Sizes) -> tuple[int, int, int]:
    return (64, 512, 512) if sz.quick else (256, 1024, 1024)  # 64 MiB / 1 GiB of float32


def child(spec: dict) -> dict:
    """Measure one case in this (fresh) process; returns byte counts."""
    torch.set_num_threads(spec["threads"])
    shape, tile = tuple(spec["shape"]), tuple(spec["tile"])
    model = StandIn(3, tile).eval()
    image = random_image((*shape, 1))
    out = tifffile.memmap(spec["memmap"], shape=image.shape, dtype=np.float32) \
        if spec["memmap"] else None
    sampler = AnonPeak()
    reset_peak()  # where unsupported, the peak so far (no larger than the current RSS here)
    before, anon_before = peak_rss_bytes(), sampler.reset()
    began = time.perf_counter()
    predict_image(model, image, tile, None, Config().test.tiles_per_batch, "cpu", out=out)
    seconds = time.perf_counter() - began
    return {"volume": image.nbytes, "before": before, "after": peak_rss_bytes(),
            "anon": sampler.stop() - anon_before, "seconds": seconds}


def _measure(spec: dict) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.memory", json.dumps(spec)],
                          capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(sz: Sizes) -> list[Row]:
    """Peak RSS rise with an in-memory output and with a memmap output."""
    shape = _shape(sz)
    tile = (16, 64, 64)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, memmap in (("in-memory out", ""), ("memmap out", str(Path(tmp) / "out.tif"))):
            m = _measure({"shape": shape, "tile": tile, "memmap": memmap,
                          "threads": torch.get_num_threads()})
            rise = m["after"] - m["before"]
            case = f"3D {shape} {mib(m['volume'])} tile {tile}, {name}"
            rows.append(Row("memory", f"{case}: peak RSS rise / volume",
                            f"{rise / m['volume']:.3f}", "" if memmap else "~1",
                            f"+{mib(rise)}, {m['seconds']:.1f} s"))
            rows.append(Row("memory", f"{case}: peak anonymous rise / volume",
                            f"{m['anon'] / m['volume']:.3f}", "<< 1" if memmap else "~1",
                            f"+{mib(m['anon'])} (not file-backed)"))
    return rows


if __name__ == "__main__":
    print(json.dumps(child(json.loads(sys.argv[1]))))
