"""Input | prediction | target triplets for TensorBoard."""

import numpy as np
import torch
from torch import nn

from i2i_nb.tensorboard_images import GAP, triplet, triplets


def test_triplet_panels_side_by_side_in_unit_range():
    x = torch.rand(2, 16, 20) * 100  # two channels: channel 0 is shown
    y = torch.rand(1, 16, 20)
    image = triplet(x, y * 2, y)
    assert image.shape == (1, 16, 3 * 20 + 2 * GAP) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    target = image[0, :, -20:]
    prediction = image[0, :, 20 + GAP:40 + GAP]
    assert (prediction >= target).all()  # both on the target's scale
    assert (image[0, :, 20:20 + GAP] == 1.0).all()


def test_volumes_show_the_middle_slice():
    x = torch.zeros(1, 5, 8, 8)
    x[0, 2] = torch.arange(64.0).reshape(8, 8)
    image = triplet(x, x, x)
    assert image.shape == (1, 8, 3 * 8 + 2 * GAP) and image[0, :, :8].max() == 1.0


def test_triplets_of_the_first_patches():
    data = [(torch.rand(1, 8, 8), torch.rand(1, 8, 8)) for _ in range(5)]
    model = nn.Conv2d(1, 1, 3, padding=1)
    model.train()
    image = triplets(model, data, torch.device("cpu"), count=3)
    assert image.shape == (1, 3 * 8 + 2 * 2 * GAP, 3 * 8 + 2 * GAP) and not model.training
    assert (image[0, 8:8 + 2 * GAP] == 1.0).all()  # rows apart
