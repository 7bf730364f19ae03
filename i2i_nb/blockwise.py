"""Block-wise prediction of big volumes into one OME-Zarr, shared by processes and jobs.

The image is cut into blocks (one output chunk each). A block is predicted from the tiles
of the whole-image tiling that reach it (:func:`~i2i_nb.predict.predict_image` with
``region``: the tiler's halo, same tiles, same order, same blend weights), so the result
equals the whole-image prediction. torchrun ranks take every N-th block; independent jobs
take the blocks whose start on the first spatial axis lies in their ``[z_start, z_end)``.
Every process writes its blocks straight into the same output store (one chunk file per
block, so no two writers touch a file), makes the chunk durable (``fsync``), and only then
records the block as finished: an empty marker file under ``<output>/.i2i_nb_blocks/``,
created atomically. A job killed mid-way and run again skips the recorded blocks and
rewrites any block it had half written.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import zarr
from torch import nn

from i2i_nb.data.io import PixelSize, image_on_disk, slab_ranges
from i2i_nb.data.io.axes import Layout, spatial_axes
from i2i_nb.data.io.lazy import ChannelLastView
from i2i_nb.data.io.zarr import create_ome_zarr
from i2i_nb.data.normalize import ChannelAffine, DatasetScaler
from i2i_nb.distributed import SINGLE, World, barrier
from i2i_nb.errors import DataError
from i2i_nb.predict import predict_image

RECORD = ".i2i_nb_blocks"


@dataclass(frozen=True)
class BlockPlan:
    """Blocks of ``block`` voxels (the last ones shorter) over a spatial ``shape``."""

    shape: tuple[int, ...]
    block: tuple[int, ...]

    @property
    def counts(self) -> tuple[int, ...]:
        """Blocks per axis."""
        return tuple(math.ceil(n / b) for n, b in zip(self.shape, self.block, strict=True))

    def __len__(self) -> int:
        return math.prod(self.counts)

    def box(self, index: int) -> tuple[slice, ...]:
        """The spatial box of block ``index`` (C order over the block grid)."""
        corner = np.unravel_index(index, self.counts)
        return tuple(slice(int(c) * b, min(n, (int(c) + 1) * b))
                     for c, b, n in zip(corner, self.block, self.shape, strict=True))

    def chunk(self, index: int) -> tuple[int, ...]:
        """The block's chunk index in the grid."""
        return tuple(int(c) for c in np.unravel_index(index, self.counts))

    def selected(self, start: int = -1, stop: int = -1, world: World = SINGLE) -> list[int]:
        """Blocks starting in ``[start, stop)`` on the first axis (-1: open), then every
        ``world.size``-th of them from ``world.rank``."""
        first = self.block[0]
        low = max(0, start)
        high = self.shape[0] if stop < 0 else stop
        chosen = [i for i in range(len(self)) if low <= self.chunk(i)[0] * first < high]
        return chosen[world.rank::world.size]


def default_block(spatial: Sequence[int], tile: Sequence[int] | None) -> tuple[int, ...]:
    """Twice the tile per axis (the tiles reaching a block then cost about 1.5x to 2x the
    block), at most the image; the whole image without tiles."""
    if tile is None:
        return tuple(int(n) for n in spatial)
    return tuple(min(int(n), 2 * int(t)) for n, t in zip(spatial, tile, strict=True))


class BlockRecord:
    """The finished-block markers of one output store."""

    def __init__(self, store: Path) -> None:
        self.folder = Path(store) / RECORD

    def _marker(self, index: int) -> Path:
        return self.folder / f"{index:08d}.done"

    def done(self, index: int) -> bool:
        """Whether block ``index`` was recorded as finished."""
        return self._marker(index).exists()

    def count(self) -> int:
        """Blocks recorded as finished."""
        return sum(1 for p in self.folder.glob("*.done")) if self.folder.exists() else 0

    def mark(self, index: int) -> None:
        """Record block ``index`` atomically (temporary file, fsync, rename, fsync folder)."""
        self.folder.mkdir(exist_ok=True)
        tmp = self.folder / f".{index:08d}.{uuid.uuid4().hex[:8]}.tmp"
        with open(tmp, "wb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self._marker(index))
        _fsync_folder(self.folder)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_chunk(store: Path, chunk: Sequence[int]) -> None:
    """Make one written chunk file durable: array ``0``, keys ``c/z/y/x``, all channels in
    chunk 0."""
    path = store.joinpath("0", "0", *(str(c) for c in chunk))
    if path.exists():  # a chunk equal to the fill value is not written at all
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
        _fsync_folder(path.parent)


def open_output(dest: Path, shape: tuple[int, ...], dtype: str, ndim: int,
                block: tuple[int, ...], pixel_size: PixelSize, fingerprint: str) -> zarr.Array:
    """The output store's level-0 array: created (in a temporary folder renamed into place,
    so concurrent jobs agree on one) or, when it exists, checked to come from the same
    prediction (model, input, tiling: ``fingerprint``)."""
    dest = Path(dest)
    identity = {"fingerprint": fingerprint, "shape": list(shape), "block": list(block),
                "dtype": dtype}
    if not dest.exists():
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:12]}.tmp")
        dest.parent.mkdir(parents=True, exist_ok=True)
        create_ome_zarr(tmp, shape, dtype, ndim, block, pixel_size, {"i2i_nb": identity})
        try:
            os.rename(tmp, dest)  # fails when another process created it first
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    group = zarr.open_group(str(dest), mode="r+")
    found = dict(group.attrs).get("i2i_nb")
    if found != identity:
        raise DataError(f"{dest}: holds another prediction (other model, input, tiling or "
                        "output type) than this one; delete it (or use another --run_id) to "
                        "predict again")
    return group["0"]


def fingerprint(checkpoint: Path | None, source: Path, settings: dict[str, Any]) -> str:
    """An identity of one prediction: the checkpoint's bytes, the input and the tiling."""
    digest = hashlib.sha256()
    if checkpoint is not None and Path(checkpoint).exists():
        with open(checkpoint, "rb") as handle:
            for part in iter(lambda: handle.read(1 << 20), b""):
                digest.update(part)
    digest.update(json.dumps({"source": str(Path(source).absolute()), **settings},
                             sort_keys=True, default=str).encode())
    return digest.hexdigest()[:32]


@dataclass
class BlockOutcome:
    """What one process did for one image: blocks computed and skipped (already done), and
    whether every block of the image is now recorded (by any process)."""

    computed: int
    skipped: int
    complete: bool


def predict_blocks(
    model: nn.Module, raw: np.ndarray, array: zarr.Array, store: Path, plan: BlockPlan,
    indices: Sequence[int], transform: ChannelAffine, scaler: DatasetScaler,
    cast: Any, tile: tuple[int, ...] | None, overlap: tuple[int, ...] | None,
    batch_size: int, device: torch.device, amp: bool = False,
) -> BlockOutcome:
    """Predict the blocks ``indices`` of ``raw`` not yet recorded into ``array``.

    Each block: the tiles reaching it are predicted (the input normalised by
    ``transform``), mapped back to target units with ``scaler``, cast with ``cast``,
    written, made durable, and recorded.
    """
    record = BlockRecord(store)
    computed = skipped = 0
    for index in indices:
        if record.done(index):
            skipped += 1
            continue
        box = plan.box(index)
        pred = predict_image(model, raw, tile, overlap, batch_size, device, amp,
                             transform=transform, region=box)
        values = cast(scaler.inverse(pred))
        array[(slice(None), *box)] = np.moveaxis(values, -1, 0)
        _fsync_chunk(Path(store), plan.chunk(index))
        record.mark(index)
        computed += 1
    return BlockOutcome(computed, skipped, record.count() == len(plan))


@dataclass(frozen=True)
class BlockSettings:
    """``TEST.BY_CHUNKS``: block shape (empty: :func:`default_block`), the first-axis range
    of this job (-1: open), whether to also write a TIFF when every block is done, and the
    ``DATA.PREPROCESS.ZOOM`` factors per spatial axis (empty: none).

    With a zoom the image predicted is the zoomed input (:class:`~i2i_nb.data.zoom.ZoomedView`,
    given by the caller): blocks and ``block_shape`` are in its voxels, while ``z_start`` and
    ``z_end`` stay slices of the input (as BiaPy) and are zoomed here."""

    block_shape: tuple[int, ...] = ()
    z_start: int = -1
    z_end: int = -1
    save_out_tif: bool = False
    zoom: tuple[float, ...] = ()

    def first_axis_range(self) -> tuple[int, int]:
        """``[z_start, z_end)`` in the predicted image's voxels (-1: open)."""
        factor = self.zoom[0] if self.zoom else 1.0
        return tuple(v if v < 0 else int(round(v * factor))  # type: ignore[return-value]
                     for v in (self.z_start, self.z_end))


def stored_view(array: zarr.Array, ndim: int) -> ChannelLastView:
    """The channel-last view of an output store's ``c, [z,] y, x`` array."""
    return ChannelLastView(array, Layout("C" + spatial_axes(ndim), ndim))


def predict_file_by_blocks(
    model: nn.Module, raw: np.ndarray, dest: Path, job: BlockSettings, world: World, *,
    ndim: int, out_channels: int, transform: ChannelAffine, scaler: DatasetScaler,
    dtype: str, cast: Any, pixel_size: PixelSize, identity: str,
    score: Callable[[np.ndarray], dict[str, Any]] | None, tiling: dict[str, Any],
) -> dict[str, Any]:
    """Predict one image block by block into the OME-Zarr ``dest`` (see the module).

    Every rank calls this for the same image. Returns, on rank 0 once every block of the
    image is recorded, ``score`` of the prediction (when given: the metrics against the
    target, read back block by block) and ``blocks``; elsewhere ``blocks`` and
    ``complete`` only.
    """
    spatial = tuple(raw.shape[:-1])
    block = tuple(job.block_shape) or default_block(spatial, tiling["tile_shape"])
    block = tuple(min(b, n) for b, n in zip(block, spatial, strict=True))
    plan = BlockPlan(spatial, block)
    array = open_output(dest, (*spatial, out_channels), dtype, ndim, block, pixel_size,
                        identity)
    mine = plan.selected(*job.first_axis_range(), world)
    outcome = predict_blocks(model, raw, array, dest, plan, mine, transform, scaler, cast,
                             tiling["tile_shape"], tiling["overlap"], tiling["batch_size"],
                             tiling["device"], tiling["amp"])
    barrier(world)
    complete = BlockRecord(dest).count() == len(plan)
    row: dict[str, Any] = {"blocks": f"{outcome.computed} predicted, {outcome.skipped} "
                                     f"already done, of {len(plan)}", "complete": complete}
    if not (complete and world.is_main):
        return row
    view = stored_view(array, ndim)
    if job.save_out_tif:
        with image_on_disk(dest.with_suffix(".tif"), view.shape, dtype, ndim,
                           pixel_size) as tiff:
            for part in slab_ranges(view):
                tiff[part] = view[part]
    if score is not None:
        row.update(score(view))
    return row
