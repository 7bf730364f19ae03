"""Section ``ooc``: prediction and training on data larger than the memory given to the process.

Every case runs in a fresh subprocess inside a memory control group made for it
(:mod:`bench.limit`): a process that goes beyond the limit is OOM-killed.  Where no group
can be made, the cases run without a limit, the table says ``NOT enforced``, and the peaks
are only compared with the limit.  Data are written to a temporary folder (deleted after)
and dropped from the page cache, so the child reads them from disk.

- prediction (:mod:`bench.ooc_predict`): a float32 volume 4x the limit, ``predict_pairs``
  with ``on_disk="auto"``; completed, disk path chosen, peak RSS and anonymous memory
  against the volume, the group's peak usage, and a check of the output file.
- training (:mod:`bench.ooc_train`): ``DATA.TRAIN.IN_MEMORY: False`` on data sets of 0.25x,
  1x and 4x the limit; the peaks should not grow with the data.  Where the limit is
  enforced, ``IN_MEMORY: True`` on the 4x data set is run as a contrast (it must be killed).
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from bench import ooc_predict, ooc_train
from bench.common import Row, Sizes, mib
from bench.limit import MemoryLimit, Outcome, python_child
from i2i_nb.config import Config
from i2i_nb.inference import tile_settings

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20


@dataclass(frozen=True)
class Plan:
    """Limits and data sizes of one mode (a Python process with torch alone is ~250 MiB)."""

    predict_limit: int
    volume: tuple[int, int, int]  # float32, 4x predict_limit
    train_limit: int
    side: int  # of the square uint16 training images
    patch: int
    factors: tuple[float, ...] = (0.25, 1.0, 4.0)


def plan(sz: Sizes) -> Plan:
    """Quick: 1.5 GiB under 384 MiB and up to 2 GiB of training data under 512 MiB; full:
    4 GiB under 1 GiB and up to 4 GiB of training data under 1 GiB."""
    if sz.quick:
        return Plan(384 * MiB, (384, 1024, 1024), 512 * MiB, 2048, 64)
    return Plan(1024 * MiB, (1024, 1024, 1024), 1024 * MiB, 2048, 128)


def _say(text: str) -> None:
    print(f"  ooc: {text}", file=sys.stderr, flush=True)


def _limited(limit: int, module: str, spec: dict) -> tuple[Outcome, dict | None, MemoryLimit]:
    """Run ``module``'s child in a fresh group; the outcome and the child's JSON (None if it
    did not finish)."""
    with MemoryLimit(limit) as group:
        spec = {**spec, "limit": limit, "enforced": group.enforced,
                "threads": torch.get_num_threads()}
        outcome = group.run(python_child(module, json.dumps(spec)), ROOT)
    lines = outcome.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if outcome.returncode == 0 and lines else None
    return outcome, result, group


def _ended(outcome: Outcome) -> str:
    if outcome.returncode == 0:
        return "completed"
    if outcome.killed:
        return "KILLED" + (" (OOM)" if outcome.oom_kills else "")
    return f"FAILED (exit {outcome.returncode})"


def _group(outcome: Outcome, limit: int) -> str:
    if outcome.group_peak is None:
        return "no group peak"
    return (f"group peak {mib(outcome.group_peak)} = {outcome.group_peak / limit:.2f}x the "
            f"limit (page cache included), OOM kills {outcome.oom_kills or 0}")


def _limit_row(group: MemoryLimit) -> Row:
    if group.enforced:
        return Row("ooc", "memory limit", f"enforced (cgroup {group.version})", "enforced",
                   "a child going beyond it is OOM-killed")
    print("warning: ooc: " + group.describe() + "; the children run WITHOUT a memory limit, "
          "their peaks are only compared with it", flush=True)
    return Row("ooc", "memory limit", "NOT enforced", "enforced",
               "no writable memory cgroup: peaks are only compared with the limit")


def _no_room(tmp: Path, needed: int, case: str) -> list[Row]:
    """A "skipped" row when the temporary folder's disk has less than ``needed`` free."""
    free = shutil.disk_usage(tmp).free
    if free >= needed + (512 << 20):
        return []
    return [Row("ooc", case, "skipped", "completed", f"needs {mib(needed)} free in {tmp} "
                f"(set TMPDIR), has {mib(free)}")]


def _predict(p: Plan, sz: Sizes, tmp: Path) -> list[Row]:
    needed = 2 * 4 * math.prod(p.volume)  # input and output
    if skipped := _no_room(tmp, needed, f"predict 3D {p.volume} float32"):
        return skipped
    source = tmp / "volume.tif"
    _say(f"writing a {p.volume} float32 volume")
    volume = ooc_predict.write_volume(source, p.volume)
    tile = tile_settings((), (), (), sz.patch[3], False)[0]
    _say(f"predicting it under {mib(p.predict_limit)}")
    outcome, m, group = _limited(p.predict_limit, "bench.ooc_predict", {
        "input": str(source), "out_dir": str(tmp / "out"), "patch": sz.patch[3], "tile": tile,
        "tiles_per_batch": Config().test.tiles_per_batch})
    case = f"predict 3D {p.volume} float32 {mib(volume)} under {mib(p.predict_limit)}"
    rows = [_limit_row(group)]
    ended = _ended(outcome)
    if m is None:
        tail = outcome.stderr.strip().splitlines()[-1:] or [""]
        return [*rows, Row("ooc", case, ended, "completed", f"{_group(outcome, p.predict_limit)}"
                           f"; {tail[0][:120]}")]
    ok = m["shape_ok"] and m["finite"] and m["vs_exact"] < 1e-3
    return [
        *rows,
        Row("ooc", f"{case}: volume / limit", f"{volume / p.predict_limit:.1f}", "> 1",
            f"{ended} in {m['seconds']:.0f} s; auto chose the disk path: "
            f"{'yes' if m['on_disk'] else 'NO'} (available {mib(m['available'])}"
            + ("" if group.enforced else ": the limit minus the RSS, no cgroup") + ")"),
        Row("ooc", f"{case}: peak RSS / volume", f"{m['peak_rss'] / volume:.3f}", "<< 1",
            f"{mib(m['peak_rss'])} (VmHWM: torch's ~250 MiB and mapped file pages included, "
            "shared libraries cached by other groups too)"),
        Row("ooc", f"{case}: peak anonymous / volume", f"{m['peak_anon'] / volume:.3f}", "<< 1",
            f"{mib(m['peak_anon'])} (RssAnon sampled every 5 ms)"),
        Row("ooc", f"{case}: output", "ok" if ok else "WRONG", "ok",
            f"shape {'ok' if m['shape_ok'] else 'WRONG'}, 3 slices finite: {m['finite']}; "
            f"16x256x256 block: max |disk - in memory| {m['vs_memory']:.2g}, max |disk - "
            f"exact| {m['vs_exact']:.2g}; {_group(outcome, p.predict_limit)}"),
    ]


def _train_case(p: Plan, data: Path, size: int, factor: float, in_memory: bool,
                tmp: Path) -> tuple[Row, dict | None]:
    results = tmp / f"results-{factor}-{in_memory}"
    _say(f"training on {mib(size)} with IN_MEMORY {in_memory} under {mib(p.train_limit)}")
    outcome, m, _ = _limited(p.train_limit, "bench.ooc_train", {
        "data": str(data), "results": str(results), "patch": p.patch, "in_memory": in_memory})
    shutil.rmtree(results, ignore_errors=True)
    case = (f"train 2D IN_MEMORY {in_memory}, {mib(size)} of {p.side}^2 uint16 pairs = "
            f"{factor:g}x {mib(p.train_limit)}")
    ended = _ended(outcome)
    target = "KILLED" if in_memory else "completed"
    if m is None:
        tail = outcome.stderr.strip().splitlines()[-1:] or [""]
        note = _group(outcome, p.train_limit) + ("" if outcome.killed else f"; {tail[0][:120]}")
        return Row("ooc", case, ended, target, note), None
    return Row("ooc", case, ended, target,
               f"peak RSS {mib(m['peak_rss'])}, peak anonymous {mib(m['peak_anon'])}, "
               f"{m['epochs']} epochs in {m['seconds']:.0f} s; {_group(outcome, p.train_limit)}"
               ), m


def _train(p: Plan, tmp: Path) -> list[Row]:
    rows, peaks, enforced = [], {}, _enforced()
    if skipped := _no_room(tmp, int(max(p.factors) * p.train_limit), "train 2D IN_MEMORY False"):
        return skipped
    for factor in p.factors:
        data = tmp / f"data-{factor}"
        _say(f"writing {factor:g}x {mib(p.train_limit)} of training pairs")
        size = ooc_train.write_pairs(data, int(factor * p.train_limit), p.side)
        row, m = _train_case(p, data, size, factor, False, tmp)
        rows.append(row)
        if m is not None:
            peaks[factor] = m
        if factor == max(p.factors):
            if enforced:
                rows.append(_train_case(p, data, size, factor, True, tmp)[0])
            else:
                rows.append(Row("ooc", f"train 2D IN_MEMORY True, {factor:g}x", "skipped",
                                "KILLED", "no enforced limit: it would hold the whole data"))
        shutil.rmtree(data, ignore_errors=True)
    low, high = min(p.factors), max(p.factors)
    for key, name in (("peak_rss", "peak RSS"), ("peak_anon", "peak anonymous")):
        if low in peaks and high in peaks:
            between = "".join(f", {f:g}x {mib(peaks[f][key])}" for f in p.factors
                              if low < f < high and f in peaks)
            why = ("" if key == "peak_anon" else "; mapped file pages: bounded by the limit only"
                   if enforced else "; mapped file pages: unbounded without a limit")
            rows.append(Row("ooc", f"train IN_MEMORY False: {name} at {high:g}x / at {low:g}x",
                            f"{peaks[high][key] / peaks[low][key]:.2f}", "~1",
                            f"{high:g}x {mib(peaks[high][key])}, {low:g}x "
                            f"{mib(peaks[low][key])}{between}{why}"))
    return rows


def _enforced() -> bool:
    with MemoryLimit(1 << 30) as group:
        return group.enforced


def run(sz: Sizes) -> list[Row]:
    """Prediction of a volume 4x the limit, then training on 0.25x, 1x and 4x the limit."""
    p = plan(sz)
    with tempfile.TemporaryDirectory(prefix="i2i_nb-ooc-") as tmp:
        rows = _predict(p, sz, Path(tmp))
    with tempfile.TemporaryDirectory(prefix="i2i_nb-ooc-") as tmp:
        rows += _train(p, Path(tmp))
    return rows
