"""How a network computes on its device: mixed precision (``TRAIN.AMP``) and the memory
layout of its weights.

- On CUDA, ``TRAIN.AMP`` autocasts to bfloat16 (float16, with a gradient scaler, where
  bfloat16 is missing).
- On a CPU with native bfloat16 arithmetic (AVX512-BF16 or AMX), it autocasts to
  bfloat16 (oneDNN's bfloat16 convolutions); on other CPUs it does nothing.
- On the CPU the weights are kept channels-last while the network trains or predicts
  (oneDNN's native layout: no reordering around every convolution; the results equal the
  default layout's to float rounding), and put back afterwards (:func:`cpu_layout`).

``python -m bench --only levers`` and its 3D counterpart measure each against the float32
step with contiguous weights (1-2 threads, U-Net 16-32-64-128, patch 128² / 16x64²,
batch 4-8, AMD EPYC with AVX512-BF16): channels-last 0.73-0.83x, bfloat16 0.55-0.71x,
both 0.44-0.49x. bfloat16 moves a network's output by
~1% of its spread (RMS; U-Net with layer, instance or no normalisation, U-NeXt), as on
CUDA; keeping the normalisation layers in float32 (CUDA autocast's rule) changed that by
less than 5%, so the CPU's autocast rules are used as they are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


def cpu_bf16_native() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX tiles)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    for name in checks:
        check = getattr(torch.cpu, name, None)
        with contextlib.suppress(RuntimeError):
            if check is not None and check():
                return True
    return False


def amp_dtype(device: torch.device | str, enabled: bool) -> torch.dtype | None:
    """The autocast type of ``TRAIN.AMP`` on ``device``; None: float32 throughout."""
    device = torch.device(device)
    if not enabled:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_bf16_native():
        return torch.bfloat16
    return None


def autocast(device: torch.device | str, enabled: bool) -> contextlib.AbstractContextManager:
    """Autocast to :func:`amp_dtype` on ``device``; nothing when that is None."""
    dtype = amp_dtype(device, enabled)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)


def precision_note(device: torch.device | str, enabled: bool) -> str:
    """One line for the log: how the network computes on ``device``."""
    device = torch.device(device)
    dtype = amp_dtype(device, enabled)
    kind = "float32" if dtype is None else f"{str(dtype).removeprefix('torch.')} autocast"
    why = ""
    if device.type == "cpu":
        why = " (TRAIN.AMP; native bfloat16)" if dtype is not None else \
            " (this CPU has no native bfloat16)" if enabled else " (TRAIN.AMP: False)"
        kind += ", channels-last weights"
    return f"compute: {kind}{why}"


def _channels_last(ndim: int) -> torch.memory_format:
    return torch.channels_last if ndim == 2 else torch.channels_last_3d


@contextlib.contextmanager
def cpu_layout(model: nn.Module, device: torch.device | str, ndim: int
               ) -> Iterator[nn.Module]:
    """``model`` with channels-last weights while the block runs on the CPU (as it is
    elsewhere); the contiguous layout is restored afterwards, so state dicts, exports and
    callers see what they gave."""
    if torch.device(device).type != "cpu" or ndim not in (2, 3):
        yield model
        return
    model.to(memory_format=_channels_last(ndim))
    try:
        yield model
    finally:
        model.to(memory_format=torch.contiguous_format)
