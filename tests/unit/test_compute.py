"""How networks compute on the CPU: channels-last weights and bfloat16 autocast
(:mod:`i2i_nb.compute`) in the layer, in the fit loop and in tiled prediction."""

import contextlib
import copy
import dataclasses

import numpy as np
import pytest
import torch

from i2i_nb import compute, predict
from i2i_nb.compute import amp_dtype, autocast, cpu_layout, precision_note
from i2i_nb.config import TrainConfig
from i2i_nb.losses import build_loss
from i2i_nb.models.patchgan import PatchGAN
from i2i_nb.predict import predict_image
from i2i_nb.stepper import Stepper
from tests.unit.test_models import CASES, tiny

CPU = torch.device("cpu")


@pytest.fixture(params=[True, False], ids=["native-bf16", "no-bf16"])
def native(request, monkeypatch) -> bool:
    monkeypatch.setattr(compute, "cpu_bf16_native", lambda: request.param)
    return request.param


def test_amp_follows_the_key_and_the_cpu(native):
    assert amp_dtype(CPU, False) is None
    assert amp_dtype(CPU, True) == (torch.bfloat16 if native else None)
    assert amp_dtype(torch.device("meta"), True) is None
    assert amp_dtype("cpu", True) == amp_dtype(CPU, True)  # a device name is taken too
    with autocast(CPU, True):
        y = torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 3))
    assert y.dtype == (torch.bfloat16 if native else torch.float32)
    note = precision_note(CPU, True)
    assert ("bfloat16 autocast" in note) == native and "channels-last" in note
    assert "TRAIN.AMP: False" in precision_note(CPU, False)


def test_cuda_amp_type(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert amp_dtype(torch.device("cuda"), True) == torch.float16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert amp_dtype(torch.device("cuda"), True) == torch.bfloat16


def _weights_channels_last(model: torch.nn.Module, ndim: int) -> list[bool]:
    fmt = torch.channels_last if ndim == 2 else torch.channels_last_3d
    return [p.is_contiguous(memory_format=fmt) and not p.is_contiguous()
            for p in model.parameters() if p.dim() == ndim + 2 and p.shape[1] > 1
            and p.shape[2:].numel() > 1]


@pytest.mark.parametrize(("arch", "ndim"), CASES)
def test_channels_last_gives_the_same_outputs_and_gradients(arch, ndim):
    """Every network, in training mode (same random draws for dropout and drop-path)."""
    model = tiny(arch, ndim).train()
    fixed = getattr(model, "fixed_shape", None)
    shape = (2, 1, *fixed) if fixed is not None else (2, 1, *((8, 24, 24) if ndim == 3
                                                              else (24, 24)))
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))

    def run(net: torch.nn.Module) -> tuple[torch.Tensor, list[torch.Tensor]]:
        torch.manual_seed(5)
        out = net(x)
        out.square().mean().backward()
        return out.detach(), [p.grad for p in net.parameters() if p.grad is not None]

    ref, ref_grads = run(model)
    other = copy.deepcopy(model)
    other.zero_grad()
    with cpu_layout(other, CPU, ndim):
        assert all(_weights_channels_last(other, ndim))
        out, grads = run(other)
    assert all(p.is_contiguous() for p in other.parameters())  # put back
    assert torch.allclose(out, ref, atol=1e-5 * float(ref.abs().max()) + 1e-7)
    scale = max(float(b.abs().max()) for b in ref_grads)  # biases before a norm: ~0
    for a, b in zip(grads, ref_grads, strict=True):
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-5 * scale)


@pytest.mark.parametrize("ndim", [2, 3])
def test_channels_last_patchgan_discriminator(ndim):
    """The GAN's discriminator, channels-last beside its generator in the fit loop."""
    torch.manual_seed(0)
    net = PatchGAN(ndim, 1, 8).train()
    x = torch.randn((2, 1, *((32, 32, 32) if ndim == 3 else (32, 32))))
    ref = net(x)
    ref.square().mean().backward()
    ref_grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    with cpu_layout(net, CPU, ndim):
        out = net(x)
        out.square().mean().backward()
    assert torch.allclose(out, ref, atol=1e-5 * float(ref.detach().abs().max()))
    scale = max(float(g.abs().max()) for g in ref_grads)
    for p, g in zip(net.parameters(), ref_grads, strict=True):
        assert torch.allclose(p.grad, g, rtol=1e-3, atol=1e-5 * scale)


def test_layout_is_restored_after_an_error_and_left_alone_off_the_cpu():
    model = tiny("unet", 2)
    with pytest.raises(RuntimeError, match="boom"), cpu_layout(model, CPU, 2):
        assert any(_weights_channels_last(model, 2))
        raise RuntimeError("boom")
    assert all(p.is_contiguous() for p in model.parameters())
    with cpu_layout(model, torch.device("meta"), 2):
        assert not any(_weights_channels_last(model, 2))


@pytest.mark.parametrize("ndim", [2, 3])
def test_prediction_on_the_cpu(ndim, native, monkeypatch):
    """Tiled prediction: channels-last equals the contiguous layout to rounding; with
    TRAIN.AMP on a native-bf16 CPU it is bfloat16's rounding away; the model's layout is
    the caller's afterwards."""
    model = tiny("unet", ndim)
    shape = (8, 40, 40, 1) if ndim == 3 else (72, 72, 1)
    image = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    tile = (8, 16, 16) if ndim == 3 else (32, 32)
    plain = predict_image(model, image, tile, batch_size=3)
    mixed = predict_image(model, image, tile, batch_size=3, amp=True)
    assert all(p.is_contiguous() for p in model.parameters())
    with monkeypatch.context() as patch:
        patch.setattr(predict, "cpu_layout", lambda m, *_: contextlib.nullcontext(m))
        reference = predict_image(model, image, tile, batch_size=3)
    spread = float(reference.max() - reference.min())
    assert np.abs(plain - reference).max() < 1e-5 * spread
    error = np.abs(mixed - reference).max()
    if native:
        assert 1e-6 * spread < error < 5e-2 * spread  # bfloat16: ~3 significant digits
    else:
        assert error < 1e-5 * spread


def test_bf16_training_step_keeps_float32_weights_and_learns(native):
    """The fit loop's step under TRAIN.AMP: master weights and optimiser state stay float32,
    the loss falls as in float32 (no gradient scaler on the CPU)."""
    ndim = 2
    model = tiny("unet", ndim).train()
    cfg = TrainConfig(lr=1e-2)
    losses = {}
    for amp in (False, True):
        net = copy.deepcopy(model)
        step = Stepper(net, dataclasses.replace(cfg, amp=amp), build_loss("MSE", ndim), 100,
                       CPU)
        assert not step.scaler.is_enabled()
        g = torch.Generator().manual_seed(0)
        with cpu_layout(net, CPU, ndim):
            history = []
            for _ in range(60):
                x = torch.randn(4, 1, 24, 24, generator=g)
                y = torch.nn.functional.avg_pool2d(x, 3, 1, 1)  # a smoothing to learn
                history.append(float(step(x, y)))
        assert all(p.dtype == torch.float32 for p in net.parameters())
        assert all(s.dtype == torch.float32 for group in step.optimizer.state.values()
                   for s in group.values() if torch.is_tensor(s) and s.dim() > 0)
        losses[amp] = history
    for history in losses.values():
        assert np.mean(history[-5:]) < 0.6 * np.mean(history[:5])
    assert np.mean(losses[True][-5:]) < 1.5 * np.mean(losses[False][-5:])
