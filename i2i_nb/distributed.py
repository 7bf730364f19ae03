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


@dataclass(frozen=True)
class World:
    """This process's rank among ``size`` processes (size 1: no process group)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 writes the config copy, checkpoints, logs, charts and metrics."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """Whether a process group joins several processes."""
        return self.size > 1


SINGLE = World()


def world_from_env(env: Mapping[str, str]) -> World:
    """The rank, world size and local rank that torchrun sets, or a single process."""
    return World(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)),
                 int(env.get("LOCAL_RANK", 0)))


def start(world: World, device: torch.device, timeout_s: float = 600.0) -> None:
    """Join the process group; a rank that dies stops the others after ``timeout_s``."""
    if world.enabled and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))


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
