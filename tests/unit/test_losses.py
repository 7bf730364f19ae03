import pytest
import torch
from torch import nn

from i2i_nb.losses import build_loss


@pytest.mark.parametrize(("name", "cls"), [("mae", nn.L1Loss), ("MAE", nn.L1Loss),
                                           ("L1", nn.L1Loss), ("MSE", nn.MSELoss)])
def test_pixel_losses(name, cls):
    loss = build_loss(name, 2)
    assert isinstance(loss, cls)
    pred, target = torch.zeros(1, 1, 4, 4), torch.full((1, 1, 4, 4), 2.0)
    assert loss(pred, target).item() == pytest.approx(2.0 if cls is nn.L1Loss else 4.0)


def test_unknown_and_refused_losses():
    with pytest.raises(ValueError, match="MAE, MSE, CHARBONNIER"):
        build_loss("huber", 2)
    with pytest.raises(ValueError, match="download"):
        build_loss("VGG", 2)
    with pytest.raises(ValueError, match="adversarial"):
        build_loss("BCE", 2)


@pytest.mark.parametrize("shape", [(2, 1, 32, 32), (2, 2, 4, 32, 32), (1, 1, 2, 16, 16),
                                   (1, 1, 5, 8, 8)])
def test_ssim_loss_finite_with_gradients(shape, recwarn):
    ndim = len(shape) - 2
    loss = build_loss("SSIM", ndim)
    target = torch.rand(shape) * 3 - 1
    pred = (target + 0.3 * torch.randn(shape)).requires_grad_()
    value = loss(pred, target)
    value.backward()
    assert torch.isfinite(value) and value.item() > 0
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    assert loss(target, target).item() == pytest.approx(0.0, abs=1e-6)
    assert not recwarn.list


def test_ssim_is_biapy_one_minus_ssim_on_unit_range():
    """BiaPy's SSIM term: 1 - SSIM of both scaled to [-1, 1], so it ignores gain and offset
    of either image and does not mix in L1."""
    loss = build_loss("ssim", 2)
    target = torch.rand(2, 1, 24, 24)
    pred = target + 0.1 * torch.randn_like(target)
    assert loss(5 * pred + 2, target).item() == pytest.approx(loss(pred, target).item(),
                                                              rel=1e-4)
    assert 0 < loss(pred, target).item() < 1
    assert torch.isfinite(loss(pred, torch.zeros_like(target)))


@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize("name", ["CHARBONNIER", "PCC", "LAPLACIAN", "FFT", "RFFT", "SSIM"])
def test_each_biapy_loss_is_zero_at_the_target_and_trains(name, ndim):
    torch.manual_seed(0)
    shape = (2, 1, *([8] * (ndim - 2)), 16, 16) if ndim == 3 else (2, 1, 16, 16)
    loss = build_loss(name, ndim)
    target = torch.rand(shape)
    pred = torch.rand(shape, requires_grad=True)
    assert loss(target, target).item() == pytest.approx(0.0, abs=2e-3)
    first = loss(pred, target)
    first.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    with torch.no_grad():
        moved = pred - 50 * pred.grad / pred.grad.norm() * 0.01
    assert loss(moved, target).item() < first.item()


def test_charbonnier_and_pcc_values():
    pred, target = torch.zeros(1, 1, 4, 4), torch.full((1, 1, 4, 4), 3.0)
    assert build_loss("charbonnier", 2)(pred, target).item() == pytest.approx(3.0, abs=1e-5)
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    assert build_loss("pcc", 2)(2 * x + 1, x).item() == pytest.approx(0.0, abs=1e-6)
    assert build_loss("pcc", 2)(-x, x).item() == pytest.approx(2.0, abs=1e-6)


def test_weighted_mix_is_the_weighted_sum():
    from i2i_nb.config import LossConfig

    pred, target = torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16)
    mix = build_loss(LossConfig(["MAE", "MSE"], [0.3, 2.0]), 2)
    expected = 0.3 * nn.L1Loss()(pred, target) + 2.0 * nn.MSELoss()(pred, target)
    assert mix(pred, target).item() == pytest.approx(expected.item(), rel=1e-6)
    assert isinstance(build_loss(LossConfig(["MSE", "MAE"], [1.0, 0.0]), 2), nn.MSELoss)
