"""The fit loop's optimisers use torch's multi-tensor path, with the same result."""

import copy

import pytest
import torch
from torch import nn

from i2i_nb.config import Config
from i2i_nb.optim import build_optimizer


@pytest.mark.parametrize("name", ["adamw", "adam", "sgd"])
def test_foreach_optimiser_matches_the_single_tensor_one(name: str) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ELU(), nn.Conv2d(4, 1, 3))
    twin = copy.deepcopy(model)
    cfg = Config().train
    cfg.optimizer = name
    fast = build_optimizer(model, cfg)
    assert fast.defaults["foreach"] is True
    cfg_slow = {k: v for k, v in fast.defaults.items() if k != "decoupled_weight_decay"}
    slow = type(fast)(twin.parameters(), **{**cfg_slow, "foreach": False})
    x = torch.randn(2, 1, 12, 12)
    for _ in range(3):
        for net, opt in ((model, fast), (twin, slow)):
            opt.zero_grad()
            net(x).square().mean().backward()
            opt.step()
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
