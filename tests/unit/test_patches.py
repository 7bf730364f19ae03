"""Tests of padding, augmentation and the patch datasets."""

import numpy as np
import pytest
import torch

from i2i_nb.config import AugmentorConfig
from i2i_nb.data.patches import Augment, FixedPatchDataset, PatchDataset, pad_to_min


def _pair(shape, in_channels=2, out_channels=1, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((*shape, in_channels)).astype(np.float32)
    return x, rng.random((*shape, out_channels)).astype(np.float32)


def test_pad_to_min_reflects_and_handles_size_one():
    image = np.arange(5, dtype=np.float32).reshape(1, 5, 1)
    padded = pad_to_min(image, (4, 12))
    assert padded.shape == (4, 12, 1)
    assert (padded[:, :, 0] == padded[0, :, 0]).all()  # size-1 axis: edge
    np.testing.assert_array_equal(padded[0, 3:8, 0], np.arange(5))
    assert padded[0, 2, 0] == 1  # reflect
    assert pad_to_min(image, (1, 5)) is image


@pytest.mark.parametrize("patch", [(16, 16), (4, 16, 16), (8, 12)])
def test_patch_dataset_shapes(patch):
    data = PatchDataset([_pair((10, 40, 40)[-len(patch):])], patch, 5, Augment(), seed=1)
    x, y = data[0]
    assert len(data) == 5 and x.dtype == torch.float32
    assert x.shape == (2, *patch) and y.shape == (1, *patch)


def test_patch_dataset_is_deterministic_per_epoch_and_index():
    pairs = [_pair((30, 30)), _pair((20, 25), seed=1)]
    first = PatchDataset(pairs, (8, 8), 10, Augment(), seed=3)
    second = PatchDataset(pairs, (8, 8), 10, Augment(), seed=3)
    assert torch.equal(first[4][0], second[4][0]) and torch.equal(first[4][1], second[4][1])
    assert not torch.equal(first[4][0], first[5][0])
    before = first[4][0]
    first.set_epoch(1)
    assert not torch.equal(first[4][0], before)
    with pytest.raises(IndexError):
        first[10]


def test_patch_comes_from_the_same_place_in_x_and_y():
    x = np.random.default_rng(0).random((6, 24, 24, 1)).astype(np.float32)
    data = PatchDataset([(x, x.copy())], (4, 8, 8), 20, Augment(), seed=0)
    seen = set()
    for i in range(len(data)):
        patch_x, patch_y = data[i]
        assert torch.equal(patch_x, patch_y)
        seen.add(patch_x.numpy().tobytes())
    assert len(seen) == 20


def test_augment_flips_and_rotates_identically():
    x = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4, 1)
    outputs = set()
    for seed in range(30):
        ax, ay = Augment().apply(x, x.copy(), np.random.default_rng(seed))
        np.testing.assert_array_equal(ax, ay)
        outputs.add(ax.tobytes())
    assert len(outputs) > 4
    cfg = AugmentorConfig(zflip=False, rot90=False, vflip_prob=1.0, hflip_prob=1.0)
    no_z = Augment(cfg).apply(x, x, np.random.default_rng(0))[0]
    np.testing.assert_array_equal(no_z, x[:, ::-1, ::-1])


def test_small_image_is_padded_once():
    data = PatchDataset([_pair((5, 6))], (8, 8), 2, None, seed=0)
    assert data.pairs[0][0].shape == (8, 8, 2)
    assert data[0][0].shape == (2, 8, 8)


def test_mismatched_pair_is_refused():
    x, _ = _pair((10, 10))
    with pytest.raises(ValueError, match="spatial shape"):
        PatchDataset([(x, np.zeros((10, 12, 1), np.float32))], (8, 8), 2, None, seed=0)


def test_fixed_patch_dataset_is_deterministic():
    pairs = [_pair((12, 30, 30)), _pair((12, 20, 20), seed=1)]
    first = FixedPatchDataset(pairs, (4, 8, 8), 3, seed=5)
    second = FixedPatchDataset(pairs, (4, 8, 8), 3, seed=5)
    assert len(first) == 6
    for (x1, y1), (x2, y2) in zip(first, second, strict=True):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
        assert x1.shape == (2, 4, 8, 8) and y1.shape == (1, 4, 8, 8)


def test_image_is_drawn_as_generator_choice_draws_it():
    pairs = [_pair((8, 8 + 3 * k), seed=k) for k in range(4)]
    data = PatchDataset(pairs, (8, 8), 200, None, seed=2)
    for i in range(len(data)):
        rng = np.random.default_rng([2, 0, i])
        x, _ = pairs[int(rng.choice(len(pairs), p=data.weights))]
        y0, x0 = (int(rng.integers(0, n - 8 + 1)) for n in x.shape[:2])
        expected = np.moveaxis(x[y0:y0 + 8, x0:x0 + 8], -1, 0)
        np.testing.assert_array_equal(data[i][0].numpy(), expected)


def _sparse_pair(shape=(64, 64), spots=((10, 50), (44, 12))):
    """A dark field with two bright 3x3 spots in the target (and a noisy copy as input)."""
    y = np.zeros((*shape, 1), np.float32)
    for r, c in spots:
        y[r - 1:r + 2, c - 1:c + 2] = 1.0
    x = y + np.random.default_rng(0).normal(0, 0.01, y.shape).astype(np.float32)
    return x, y


def test_foreground_blocks_find_the_bright_spots():
    from i2i_nb.data.patches import foreground_blocks

    _, y = _sparse_pair()
    corners = foreground_blocks(y, (8, 8))
    assert {tuple(c) for c in corners} == {(8, 48), (40, 8)}
    assert len(foreground_blocks(np.zeros((32, 32, 1)), (8, 8))) == 0  # constant: none


@pytest.mark.parametrize("share, expected", [(0.0, (0, 0.3)), (1.0, (1, 1))])
def test_foreground_sampling_puts_structures_in_patches(share, expected):
    data = PatchDataset([_sparse_pair()], (16, 16), 200, None, seed=0, foreground=share)
    hits = np.mean([float(data[i][1].max() > 0.5) for i in range(len(data))])
    assert expected[0] <= hits <= expected[1]


def test_transforms_on_raw_crops_equal_normalised_images():
    raw = _pair((30, 30), seed=4)
    scale = [(lambda a: a * 2 + 1), (lambda a: a - 3)]
    normalised = [(scale[0](raw[0]), scale[1](raw[1]))]
    a = PatchDataset(normalised, (8, 8), 6, Augment(), seed=2, foreground=0.9)
    b = PatchDataset([raw], (8, 8), 6, Augment(), seed=2, transforms=[tuple(scale)],
                     foreground=0.9)
    for i in range(6):
        for u, v in zip(a[i], b[i], strict=True):
            torch.testing.assert_close(u, v)
