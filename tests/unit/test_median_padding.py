"""DATA.TEST.MEDIAN_PADDING: tiles beyond the image borders hold the border's median."""

import numpy as np
import pytest
import torch
from torch import nn

from i2i_nb.config import config_from_dict
from i2i_nb.errors import ConfigError
from i2i_nb.predict import predict_image


class _Box(nn.Module):
    """A 5x5 mean: its output at a border pixel reads two pixels of padding."""

    ndim, divisor, halo = 2, (1, 1), (2, 2)

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 5, padding=2, bias=False)
        nn.init.constant_(self.conv.weight, 1 / 25)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def test_median_padding_fills_the_border_with_the_border_median():
    image = np.tile(np.arange(20, dtype=np.float32), (20, 1))[..., None]  # x ramp 0..19
    model = _Box().eval()
    reflect = predict_image(model, image, (16, 16), (4, 4))
    median = predict_image(model, image, (16, 16), (4, 4), median_padding=True)
    assert reflect[10, 0, 0] == pytest.approx((2 + 1 + 0 + 1 + 2) / 5, abs=1e-5)
    assert median[10, 0, 0] == pytest.approx((0 + 0 + 0 + 1 + 2) / 5, abs=1e-5)
    assert median[10, 19, 0] == pytest.approx((17 + 18 + 19 + 19 + 19) / 5, abs=1e-4)
    np.testing.assert_allclose(median[4:16, 4:16], reflect[4:16, 4:16], atol=1e-5)  # inside


def test_median_padding_is_refused_block_wise():
    with pytest.raises(ConfigError, match="DATA.TEST.MEDIAN_PADDING"):
        config_from_dict({"DATA": {"TEST": {"MEDIAN_PADDING": True}},
                          "TEST": {"BY_CHUNKS": {"ENABLE": True}}})
