"""Section ``zarr``: block-wise prediction of OME-Zarr volumes (``TEST.BY_CHUNKS``).

Each case runs :mod:`bench.zarr_predict` in fresh processes:

- flat memory: an OME-Zarr float32 volume 4x the memory limit (a control group, as in
  ``ooc``) predicted block by block into an OME-Zarr with the stand-in network; the
  anonymous peak against the volume, and the output against the exact answer;
- scaling out: a small U-Net on one volume with 1 process and with 2 torchrun processes
  (gloo, one thread each) sharing the blocks; the throughput ratio;
- overhead: the same volume as a memory-mapped TIFF predicted from disk to disk
  (``TEST.ON_DISK: always``) and as an OME-Zarr predicted block-wise, stand-in network
  (the engine and the I/O are measured); the time ratio, best of 2 alternated rounds.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from bench import ooc_predict, zarr_predict
from bench.common import Row, Sizes, mib
from bench.limit import MemoryLimit, drop_cache, python_child
from i2i_nb.config import Config
from i2i_nb.inference import tile_settings

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20


@dataclass(frozen=True)
class Plan:
    """Volumes (z, y, x) of each case and the memory limit of the first."""

    limit: int
    flat: tuple[int, int, int]  # float32, 4x limit
    scaling: tuple[int, int, int]
    overhead: tuple[int, int, int]


def plan(sz: Sizes) -> Plan:
    """Quick: 2 GiB under 512 MiB; full: 4 GiB under 1 GiB."""
    if sz.quick:
        return Plan(512 * MiB, (512, 1024, 1024), (32, 256, 256), (64, 512, 512))
    return Plan(1024 * MiB, (1024, 1024, 1024), (128, 512, 512), (128, 1024, 1024))


def _say(text: str) -> None:
    print(f"  zarr: {text}", file=sys.stderr, flush=True)


def _volume(tmp: Path, name: str, shape: tuple[int, ...], chunks: tuple[int, ...]
            ) -> tuple[Path, Path, int]:
    """The same seeded float32 volume as a TIFF and as an OME-Zarr, dropped from the cache."""
    tiff, store = tmp / f"{name}.tif", tmp / f"{name}.zarr"
    size = ooc_predict.write_volume(tiff, shape)
    zarr_predict.tiff_to_zarr(tiff, store, chunks)
    for path in store.rglob("*"):
        if path.is_file():
            drop_cache(path)
    drop_cache(tiff)
    return tiff, store, size


def _spec(sz: Sizes, source: Path, out: Path, mode: str, **extra: object) -> dict:
    patch = sz.patch[3]
    return {"input": str(source), "out_dir": str(out), "mode": mode, "patch": patch,
            "tile": tile_settings((), (), (), patch, False)[0], "threads": 1,
            "tiles_per_batch": Config().test.tiles_per_batch, **extra}


def _child(spec: dict, processes: int = 1, group: MemoryLimit | None = None
           ) -> tuple[dict | None, str]:
    """Run the child (under torchrun for several processes); its JSON, or None and why."""
    argv = python_child("bench.zarr_predict", json.dumps(spec))
    if processes > 1:
        argv = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                f"--nproc_per_node={processes}", "-m", "bench.zarr_predict", json.dumps(spec)]
    if group is not None:
        done = group.run(argv, ROOT)
    else:
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    found = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not found:
        return None, f"exit {done.returncode}: {(done.stderr.strip().splitlines() or [''])[-1]}"
    return json.loads(found[-1]), ""


def _flat(p: Plan, sz: Sizes, tmp: Path) -> list[Row]:
    needed = 3 * 4 * math.prod(p.flat)
    if shutil.disk_usage(tmp).free < needed + (512 << 20):
        return [Row("zarr", "flat memory", "skipped", "completed", f"needs {mib(needed)} free "
                    f"in {tmp} (set TMPDIR)")]
    _say(f"writing a {p.flat} float32 OME-Zarr")
    tiff, store, size = _volume(tmp, "flat", p.flat, (64, 64, 64))
    tiff.unlink()
    case = f"block-wise 3D {p.flat} OME-Zarr {mib(size)} under {mib(p.limit)}"
    _say(f"predicting it under {mib(p.limit)}")
    with MemoryLimit(p.limit) as group:
        result, why = _child(_spec(sz, store, tmp / "flat_out", "zarr"), group=group)
    enforced = f"limit {'enforced' if group.enforced else 'NOT enforced'}"
    if result is None:
        return [Row("zarr", case, "FAILED", "completed", f"{enforced}; {why[:120]}")]
    return [
        Row("zarr", f"{case}: volume / limit", f"{size / p.limit:.1f}", ">= 4",
            f"completed in {result['seconds']:.0f} s, {enforced}"),
        Row("zarr", f"{case}: peak anonymous / volume", f"{result['peak_anon'] / size:.3f}",
            "<< 1", f"{mib(result['peak_anon'])} (RssAnon, torch included)"),
        Row("zarr", f"{case}: output", "ok" if result["distance"] < 1e-3 else "WRONG", "ok",
            f"largest distance of a block to the exact answer {result['distance']:.1e}"),
    ]


def _scaling(p: Plan, sz: Sizes, tmp: Path) -> list[Row]:
    _, store, _ = _volume(tmp, "scaling", p.scaling, (64, 64, 64))
    times = {1: math.inf, 2: math.inf}
    block = [s // 2 for s in p.scaling]  # 8 blocks to share
    for round_ in range(2):  # alternated, best of 2 (a busy machine only slows a run down)
        for processes in (1, 2):
            _say(f"U-Net on {p.scaling} with {processes} process(es), round {round_ + 1}")
            out = tmp / f"scaling_{processes}_{round_}"
            result, why = _child(_spec(sz, store, out, "zarr", unet=True, block=block),
                                 processes)
            if result is None:
                return [Row("zarr", "1 vs 2 processes", "FAILED", "completed", why[:120])]
            times[processes] = min(times[processes], result["seconds"])
            shutil.rmtree(out, ignore_errors=True)
    return [Row("zarr", f"throughput 2 / 1 processes, U-Net 4-8-16-32 on {p.scaling}",
                f"{times[1] / times[2]:.2f}", "~2 (per free core)",
                f"best of 2: {times[1]:.1f} s vs {times[2]:.1f} s; one thread per process, "
                "blocks shared through torchrun (gloo)")]


def _overhead(p: Plan, sz: Sizes, tmp: Path) -> list[Row]:
    tiff, store, size = _volume(tmp, "overhead", p.overhead, (64, 64, 64))
    best = {"tiff": math.inf, "zarr": math.inf}
    for round_ in range(2):
        for mode, source in (("tiff", tiff), ("zarr", store)):
            out = tmp / f"overhead_{mode}_{round_}"
            result, why = _child(_spec(sz, source, out, mode))
            if result is None:
                return [Row("zarr", "Zarr / TIFF time", "FAILED", "completed", why[:120])]
            best[mode] = min(best[mode], result["seconds"])
            shutil.rmtree(out, ignore_errors=True)
    return [Row("zarr", f"Zarr block-wise / TIFF memmap time, stand-in on {p.overhead} "
                f"({mib(size)})", f"{best['zarr'] / best['tiff']:.2f}", "~1",
                f"best of 2: {best['zarr']:.1f} s vs {best['tiff']:.1f} s (Blosc-lz4 chunks "
                "read and written vs memory maps)")]


def run(sz: Sizes) -> list[Row]:
    """The three cases, in a temporary folder deleted after."""
    torch.set_num_threads(1)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="i2i_nb-bench-zarr-") as folder:
        tmp = Path(folder)
        p = plan(sz)
        for case in (_flat, _scaling, _overhead):
            rows += case(p, sz, tmp)
    return rows
