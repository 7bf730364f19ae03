"""Section ``levers``: each way of speeding up the bare training step, against the default
step, in one process.

The network is the hidden-evaluation style U-Net (``MODEL.FEATURE_MAPS`` 16-32-64-128,
no normalisation) on the benchmark's 2D patch and batch; the default step is the fit
loop's (:class:`i2i_nb.stepper.Stepper`: default loss, AdamW, schedule) in float32 with
contiguous weights (what :mod:`i2i_nb.compute` changes on the CPU: channels-last weights,
bf16 autocast where the CPU has it, are levers measured against it). Candidate and
default each train their own copy of the network from the same weights on the same
batch, so after the timed calls (as many steps each) the relative difference of their
weight updates (L2, against the default's updates) shows whether the lever changes the
result (``dw`` in the note; float reordering alone stays well below ``TOLERANCE``).

Ratio: lever time / default time (below 1: the lever is faster). Also reported, as
shares of one epoch of default steps: a validation pass, the checkpoint writes of an
epoch, and the subnormal slow-down of a drifted network (see :mod:`i2i_nb.cpu`).
"""

from __future__ import annotations

import contextlib
import copy
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch import nn

from bench.common import Row, Sizes, default_model, device, interleaved, synchronize
from i2i_nb.checkpoint import save_checkpoint
from i2i_nb.compute import amp_dtype
from i2i_nb.config import Config
from i2i_nb.cpu import denormals_flushed, flush_denormals
from i2i_nb.losses import build_loss
from i2i_nb.stepper import Stepper
from i2i_nb.train import evaluate

WIDTH = [16, 32, 64, 128]
TOLERANCE = 1e-2  # relative difference of the weight updates a lever may introduce


def _model(ndim: int, sz: Sizes) -> nn.Module:
    return default_model(ndim, sz.patch[ndim], WIDTH).to(device()).train()


def _stepper(model: nn.Module, ndim: int, optimizer: Callable[..., torch.optim.Optimizer]
             | None = None, amp: bool = False) -> Stepper:
    """The fit loop's step, in float32 unless ``amp`` (``TRAIN.AMP``, the default)."""
    cfg = Config()
    cfg.train.amp = amp
    step = Stepper(model, cfg.train, build_loss(cfg.loss, ndim), 1000, device())
    if optimizer is not None:
        step.optimizer = optimizer(model.parameters(), lr=cfg.train.lr,
                                   weight_decay=cfg.train.w_decay)
        step.scheduler, step.step_mode = None, "none"
    return step


def _runner(step: Stepper, x: torch.Tensor, y: torch.Tensor, steps: int,
            around: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
            ) -> Callable[[], None]:
    def run() -> None:
        with around():
            for _ in range(steps):
                step(x, y)
        synchronize(x.device)

    return run


def _drift(a: nn.Module, b: nn.Module, start: nn.Module) -> float:
    """How far the lever's updates (``a`` minus ``start``) are from the default's (``b``
    minus ``start``): L2 norm of their difference over the norm of the default's."""
    diff = sum(((p - q) ** 2).sum().item() for p, q in zip(a.parameters(), b.parameters(),
                                                           strict=True))
    moved = sum(((q - w) ** 2).sum().item() for q, w in zip(b.parameters(), start.parameters(),
                                                            strict=True))
    return (diff / moved) ** 0.5 if moved > 0 else 0.0


def _batch(ndim: int, sz: Sizes, fmt: torch.memory_format = torch.contiguous_format
           ) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    shape = (sz.batch[ndim], 1, *sz.patch[ndim])
    x, y = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    return x.to(device(), memory_format=fmt), y.to(device(), memory_format=fmt)


def _threads(n: int) -> Callable[[], contextlib.AbstractContextManager]:
    @contextlib.contextmanager
    def around() -> Iterator[None]:
        before = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    return around


def _lever_rows(ndim: int, sz: Sizes, every: bool = True) -> list[Row]:
    """One row per lever: its time over the default step's, and its weight difference
    (``every`` False: only the layout and precision levers)."""
    dev, steps, rounds = device(), sz.steps, sz.rounds
    base_model = _model(ndim, sz)
    x, y = _batch(ndim, sz)
    cl = torch.channels_last if ndim == 2 else torch.channels_last_3d
    native = amp_dtype(dev, True) is not None  # what TRAIN.AMP does on this device
    levers: list[tuple[str, Callable[[nn.Module], Callable[[], None]]]] = [
        ("channels-last weights (the default on the CPU)", lambda m: _runner(
            _stepper(m.to(memory_format=cl), ndim), x, y, steps)),
        ("AdamW foreach", lambda m: _runner(_stepper(m, ndim, lambda p, **k: torch.optim.AdamW(
            p, foreach=True, **k)), x, y, steps)),
        ("AdamW fused", lambda m: _runner(_stepper(m, ndim, lambda p, **k: torch.optim.AdamW(
            p, fused=True, **k)), x, y, steps)),
        ("oneDNN off", lambda m: _runner(_stepper(m, ndim), x, y, steps,
                                         lambda: torch.backends.mkldnn.flags(enabled=False))),
    ]
    if dev.type == "cpu" and torch.backends.mkldnn.is_available():  # AMP on CUDA: `training`
        state = "the default here" if native else "not the default: no native bf16 here"
        levers.append((f"bf16 autocast (TRAIN.AMP, {state})", lambda m: _runner(
            _stepper(m, ndim), x, y, steps,
            lambda: torch.autocast("cpu", dtype=torch.bfloat16))))
        levers.append((f"channels-last + bf16 ({state})", lambda m: _runner(
            _stepper(m.to(memory_format=cl), ndim), x, y, steps,
            lambda: torch.autocast("cpu", dtype=torch.bfloat16))))
    if every and not sz.quick:  # compiling takes minutes on 2 busy cores
        levers.append(("torch.compile", lambda m: _runner(_compiled(m, ndim), x, y, steps)))
        if dev.type == "cpu":
            levers.append(("torch.compile + channels-last + bf16", lambda m: _runner(
                _compiled(m.to(memory_format=cl), ndim), x, y, steps,
                lambda: torch.autocast("cpu", dtype=torch.bfloat16))))
    threads = torch.get_num_threads()
    if dev.type == "cpu" and threads > 1:
        levers.append((f"1 thread (default {threads})",
                       lambda m: _runner(_stepper(m, ndim), x, y, steps, _threads(1))))
    if not every:
        levers = [lever for lever in levers if "channels-last" in lever[0] or "bf16" in lever[0]]
    rows = []
    for name, make in levers:
        default_copy, lever_copy = copy.deepcopy(base_model), copy.deepcopy(base_model)
        no_schedule = "AdamW" in name  # the lever replaces the optimiser; so does its default
        default = _runner(_stepper(default_copy, ndim, torch.optim.AdamW if no_schedule
                                   else None), x, y, steps)
        began = time.perf_counter()
        try:
            candidate = make(lever_copy)
            candidate()  # the first call pays compilation
        except Exception as err:  # noqa: BLE001 - a lever this torch build lacks is reported
            rows.append(Row("levers", f"{ndim}D {name}", "n/a", "< 1", f"failed: {err!r:.80}"))
            continue
        first = time.perf_counter() - began
        default()  # as many steps for both
        r = interleaved(candidate, default, rounds)
        dw = _drift(lever_copy, default_copy, base_model)
        keep = "keep" if r.value < 0.95 and dw < TOLERANCE else "no gain" if dw < TOLERANCE \
            else "bf16 rounding: judged by bench/quality.py" if "bf16" in name \
            else "changes result"
        rows.append(Row("levers", f"{ndim}D {name}: time/default", str(r), "< 1",
                        f"dw {dw:.1e} ({keep}); first call {first:.1f} s, default "
                        f"{r.baseline_s / steps * 1e3:.0f} ms/step"))
    return rows


def _compiled(model: nn.Module, ndim: int) -> Stepper:
    cfg = Config()
    cfg.train.amp = False
    return Stepper(model, cfg.train, build_loss(cfg.loss, ndim), 1000, device(),
                   torch.compile(model))


def _share_rows(ndim: int, sz: Sizes) -> list[Row]:
    """Validation pass and checkpoint writes as shares of an epoch of default steps."""
    dev = device()
    model = _model(ndim, sz)
    step = _stepper(model, ndim)
    x, y = _batch(ndim, sz)
    epoch_steps = 8
    train = _runner(step, x, y, epoch_steps)
    val_items = [(x[i].cpu(), y[i].cpu()) for i in range(len(x))] * (epoch_steps // 4 or 1)
    loader = torch.utils.data.DataLoader(val_items, batch_size=sz.batch[ndim])
    loader2 = torch.utils.data.DataLoader(val_items, batch_size=2 * sz.batch[ndim])

    def validate() -> None:
        evaluate(model, loader, step.loss_fn, dev, False)
        model.train()

    def validate2() -> None:
        evaluate(model, loader2, step.loss_fn, dev, False)
        model.train()

    rows = []
    share = interleaved(validate, train, sz.rounds)
    rows.append(Row("levers", f"{ndim}D validation ({len(val_items)} patches) / epoch of "
                    f"{epoch_steps} steps", str(share), "small",
                    f"validation {share.candidate_s:.2f} s"))
    double = interleaved(validate2, validate, sz.rounds)
    rows.append(Row("levers", f"{ndim}D validation batch x2: time/default", str(double), "< 1"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        def checkpoints() -> None:
            state = {"model": model.state_dict(), "epoch": 0}
            save_checkpoint(folder / "best.pth", state)
            save_checkpoint(folder / "last.pth", {**state,
                                                   "optimizer": step.optimizer.state_dict()})

        ckpt = interleaved(checkpoints, train, sz.rounds)
    rows.append(Row("levers", f"{ndim}D checkpoint writes (best + last) / epoch", str(ckpt),
                    "small", f"{ckpt.candidate_s * 1e3:.0f} ms per epoch"))
    return rows


def _subnormal_rows(sz: Sizes) -> list[Row]:
    """A drifted network (every convolution's bias at -95: ELU inputs where exp(x) is
    subnormal) against the same network at its initialisation (SGD with a zero learning
    rate: both stay as they are): as torch leaves it (calling thread only, where the
    OpenMP team exists) when subnormals are not flushed yet, then flushed in every thread
    as the fit loop does."""
    ndim = 2
    x, y = _batch(ndim, sz)
    fresh = _model(ndim, sz)
    drifted = copy.deepcopy(fresh)
    with torch.no_grad():
        for module in drifted.modules():
            if isinstance(module, nn.Conv2d) and module.bias is not None:
                module.bias.fill_(-95.0)

    def sgd(params: Iterator[nn.Parameter], **_: object) -> torch.optim.Optimizer:
        return torch.optim.SGD(params, lr=0.0)

    a = _runner(_stepper(fresh, ndim, sgd), x, y, sz.steps)
    b = _runner(_stepper(drifted, ndim, sgd), x, y, sz.steps)
    rows = []
    name = "2D drifted network (ELU's subnormal range) / fresh"
    if not denormals_flushed():
        torch.set_flush_denormal(True)  # what torch alone does: the calling thread
        state = "calling thread only" if not denormals_flushed() else "all threads"
        rows.append(Row("levers", f"{name}, torch's flag ({state})",
                        str(interleaved(b, a, sz.rounds))))
    flush_denormals()
    rows.append(Row("levers", f"{name}, flushed in every thread",
                    str(interleaved(b, a, sz.rounds)), "<= 1.1"))
    return rows


def run(sz: Sizes) -> list[Row]:
    """Levers (2D; the layout and precision ones in 3D too), validation and checkpoint
    shares, and the subnormal row."""
    rows = _lever_rows(2, sz) + _lever_rows(3, sz, every=False)
    rows += _share_rows(2, sz)
    rows += _subnormal_rows(sz)
    return rows
