"""Several processes through torchrun: PyTorch's own process group, nothing home-made.

``torchrun --nproc_per_node=N -m i2i_nb --config ...`` starts N processes; each
learns its place from torchrun's environment (read by the command line only, and
passed down as a :class:`World`). NCCL joins CUDA devices, gloo the CPU.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from i2i_nb.errors import ConfigError


@dataclass(frozen=True)
class World:
    """This process's rank among ``size`` processes (size 1: no process group)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    init_method: str = "env://"

    @property
    def is_main(self) -> bool:
        """Rank 0 writes the config copy, checkpoints, logs, charts and metrics."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """Whether a process group joins several processes."""
        return self.size > 1


SINGLE = World()


def world_from_env(env: Mapping[str, str], world_size: int = 1, local_rank: int = -1,
                   dist_on_itp: bool = False, dist_url: str = "env://") -> World:
    """This process's place, as BiaPy's command line finds it.

    torchrun's ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` when set; with ``dist_on_itp`` the
    ``OMPI_COMM_WORLD_*`` variables of an MPI launcher and ``tcp://MASTER_ADDR:MASTER_PORT``;
    otherwise BiaPy's ``--world_size`` and ``--local_rank`` (the legacy
    ``torch.distributed.launch`` passes the latter), with ``--dist_url`` as the rendezvous.
    """
    if dist_on_itp:
        try:
            return World(int(env["OMPI_COMM_WORLD_RANK"]), int(env["OMPI_COMM_WORLD_SIZE"]),
                         int(env["OMPI_COMM_WORLD_LOCAL_RANK"]),
                         f"tcp://{env['MASTER_ADDR']}:{env['MASTER_PORT']}")
        except KeyError as err:
            raise ConfigError(f"--dist_on_itp: the launcher did not set {err.args[0]}") from err
    if "WORLD_SIZE" in env:
        return World(int(env.get("RANK", 0)), int(env["WORLD_SIZE"]),
                     int(env.get("LOCAL_RANK", max(local_rank, 0))), dist_url)
    if world_size > 1:
        rank = int(env.get("RANK", max(local_rank, 0)))
        return World(rank, world_size, max(local_rank, 0), dist_url)
    return SINGLE


def start(world: World, device: torch.device, timeout_s: float = 600.0,
          backend: str | None = None) -> None:
    """Join the process group; a rank that dies stops the others after ``timeout_s``.

    ``backend`` (BiaPy's ``--dist_backend``): ``nccl`` or ``gloo``; None picks NCCL for
    CUDA devices and gloo for the CPU.
    """
    if backend is not None and backend not in ("nccl", "gloo"):
        raise ConfigError(f"--dist_backend {backend!r}: must be nccl or gloo")
    if backend == "nccl" and device.type != "cuda":
        raise ConfigError(f"--dist_backend nccl needs CUDA devices; this process runs on "
                          f"{device}: use --dist_backend gloo")
    if world.enabled and not dist.is_initialized():
        backend = backend or ("nccl" if device.type == "cuda" else "gloo")
        extra = {} if world.init_method == "env://" else {
            "init_method": world.init_method, "rank": world.rank, "world_size": world.size}
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s), **extra)


def stop() -> None:
    """Leave the process group, if one was joined, once every rank is done with it (a
    rank that leaves early can abort a peer still finishing its last collective)."""
    if dist.is_initialized():
        try:
            dist.barrier()
        finally:
            dist.destroy_process_group()


def reduce_sums(values: Sequence[float], world: World, device: torch.device) -> list[float]:
    """Sum each value over all ranks (identity for a single process)."""
    if not world.enabled:
        return list(values)
    tensor = torch.tensor(list(values), dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def reduce_extremes(low: float, high: float, world: World, device: torch.device
                    ) -> tuple[float, float]:
    """The minimum of ``low`` and the maximum of ``high`` over all ranks."""
    if not world.enabled:
        return low, high
    tensor = torch.tensor([-low, high], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return -tensor[0].item(), tensor[1].item()


def any_rank(flag: bool, world: World, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any (one decision for all)."""
    return reduce_sums([float(flag)], world, device)[0] > 0


def gather(items: list[Any], world: World) -> list[Any]:
    """All ranks' lists joined, in rank order (only plain picklable rows)."""
    if not world.enabled:
        return items
    parts: list[list[Any]] = [[] for _ in range(world.size)]
    dist.all_gather_object(parts, items)
    return [item for part in parts for item in part]


def barrier(world: World) -> None:
    """Wait until every rank gets here."""
    if world.enabled:
        dist.barrier()
