"""Tests of input normalisation and the dataset-level target scaler."""

import json

import numpy as np
import pytest

from i2i_nb.data import normalize
from i2i_nb.data.normalize import INPUT_METHODS, DatasetScaler, normalize_input


@pytest.fixture
def image():
    rng = np.random.default_rng(0)
    return np.stack([rng.integers(0, 4000, (20, 30)), rng.integers(500, 600, (20, 30))],
                    axis=-1).astype(np.uint16)


def test_percentile_maps_percentiles_to_0_and_1(image):
    result = normalize_input(image, "percentile", 2.0, 98.0)
    assert result.dtype == np.float32
    for c in range(2):
        low, high = np.percentile(result[..., c], [2.0, 98.0])
        assert low == pytest.approx(0, abs=1e-5) and high == pytest.approx(1, abs=1e-5)
    assert result.min() < 0 and result.max() > 1  # not clipped


def test_zero_mean_unit_variance_per_channel(image):
    result = normalize_input(image, "zero_mean_unit_variance")
    np.testing.assert_allclose(result.mean(axis=(0, 1)), 0, atol=1e-5)
    np.testing.assert_allclose(result.std(axis=(0, 1)), 1, atol=1e-5)


def test_div_and_scale_range(image):
    np.testing.assert_allclose(normalize_input(image, "div"), image / 65535, rtol=1e-6)
    floats = image.astype(np.float32)
    np.testing.assert_array_equal(normalize_input(floats, "div"), floats)
    result = normalize_input(image, "scale_range")
    np.testing.assert_allclose(result.min(axis=(0, 1)), 0)
    np.testing.assert_allclose(result.max(axis=(0, 1)), 1)


@pytest.mark.parametrize("method", INPUT_METHODS)
def test_constant_image_stays_finite(method):
    result = normalize_input(np.full((4, 5, 6, 1), 7, np.uint8), method)
    assert result.shape == (4, 5, 6, 1) and np.isfinite(result).all()


def test_unknown_method_lists_valid_ones(image):
    with pytest.raises(ValueError, match="zero_mean_unit_variance"):
        normalize_input(image, "minmax")


@pytest.mark.parametrize("method", ["percentile", "zero_mean_unit_variance", "none"])
def test_target_scaler_round_trip(image, method):
    targets = [image, image[:5] * 2]
    scaler = DatasetScaler.fit(targets, method)
    scaled = scaler.forward(image)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaler.inverse(scaled), image, rtol=1e-5, atol=1e-2)
    restored = DatasetScaler.from_dict(json.loads(json.dumps(scaler.to_dict())))
    assert restored == scaler


def test_target_scaler_pools_dataset_statistics():
    targets = [np.zeros((10, 10, 1)), np.full((10, 10, 1), 10.0)]
    scaler = DatasetScaler.fit(targets, "zero_mean_unit_variance")
    assert scaler.offset == [pytest.approx(5.0)] and scaler.scale == [pytest.approx(5.0)]


def test_target_scaler_subsample_is_deterministic(monkeypatch):
    monkeypatch.setattr(normalize, "MAX_SAMPLES", 100)
    targets = [np.random.default_rng(i).random((30, 40, 2)) for i in range(3)]
    first = DatasetScaler.fit(targets, "percentile")
    assert first == DatasetScaler.fit(targets, "percentile")
    full = np.concatenate([t.reshape(-1, 2) for t in targets])
    assert first.offset[0] == pytest.approx(np.percentile(full[:, 0], 1.0), abs=0.05)


def test_target_scaler_checks_channels(image):
    scaler = DatasetScaler.fit([image], "percentile")
    with pytest.raises(ValueError, match="2 channel"):
        scaler.forward(image[..., :1])


@pytest.mark.parametrize("dtype", [np.uint32, np.int64, np.float64])
def test_wide_dtypes_keep_detail_near_their_top(dtype):
    """4e9 + k: float32 steps are 256 there; scaled in float64 every k stays distinct."""
    ramp = np.arange(200, dtype=np.float64).reshape(10, 20, 1)
    image = (4_000_000_000 + ramp).astype(dtype)
    for result in (normalize_input(image, "scale_range"), normalize_input(image, "percentile"),
                   normalize_input(image, "zero_mean_unit_variance"),
                   DatasetScaler.fit([image], "percentile").forward(image)):
        assert result.dtype == np.float32 and np.isfinite(result).all()
        assert len(np.unique(result)) == 200
    np.testing.assert_allclose(normalize_input(image, "scale_range")[..., 0],
                               ramp[..., 0] / 199, atol=1e-6)


def test_uint32_above_2_31_does_not_wrap():
    image = np.array([[[3_000_000_000], [3_000_000_100]]], np.uint32)
    scaler = DatasetScaler.fit([image], "percentile", 0, 100)
    assert scaler.offset == [3_000_000_000.0] and scaler.scale == [100.0]
    np.testing.assert_array_equal(scaler.forward(image)[..., 0], [[0.0, 1.0]])
    np.testing.assert_allclose(normalize_input(image, "div")[..., 0],
                               [[3e9 / 4294967295, 3.0000001e9 / 4294967295]], rtol=1e-7)


def test_int32_negative_values():
    image = np.array([[[-2_000_000_000], [2_000_000_000]]], np.int32)
    np.testing.assert_array_equal(normalize_input(image, "scale_range")[..., 0], [[0.0, 1.0]])
