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


def test_unknown_loss():
    with pytest.raises(ValueError, match="mae, mse, ssim"):
        build_loss("huber", 2)


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


def test_ssim_loss_is_affine_invariant_and_handles_constant_target():
    loss = build_loss("ssim", 2)
    target = torch.rand(2, 1, 24, 24)
    pred = target + 0.1 * torch.randn_like(target)
    assert loss(5 * pred + 2, 5 * target + 2).item() == pytest.approx(loss(pred, target).item(),
                                                                      rel=1e-4)
    assert torch.isfinite(loss(pred, torch.zeros_like(target)))


def test_ssim_loss_rejects_wrong_ndim():
    with pytest.raises(ValueError, match="3D"):
        build_loss("ssim", 3)(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8))
