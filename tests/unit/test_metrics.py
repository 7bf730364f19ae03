import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from i2i_nb.metrics import (
    METRICS,
    AffineChannels,
    crop_border,
    data_range,
    describe_fits,
    fit_channels,
    image_metrics,
    mae,
    psnr,
    ssim,
)

RNG = np.random.default_rng(0)


def _pair(shape):
    gt = RNG.random(shape).astype(np.float32) * 100
    return gt + RNG.normal(0, 5, shape).astype(np.float32), gt


def test_data_range_biapy():
    assert data_range(np.array([-3.0, 0.5, 5.0])) == 8.0
    assert data_range(np.array([2.0, 5.0])) == 5.0
    assert data_range(np.array([-4.0, -1.0])) == -1.0 + 4.0
    assert data_range(np.zeros(4)) == 1.0


def test_psnr_matches_skimage():
    pred, gt = _pair((40, 48, 1))
    gt[0, 0] = -20.0
    rng = data_range(gt)
    assert rng == pytest.approx(float(gt.max()) + 20.0)
    ref = peak_signal_noise_ratio(gt.astype(np.float64), pred.astype(np.float64), data_range=rng)
    assert psnr(pred, gt) == pytest.approx(ref, rel=1e-12)
    assert psnr(pred, gt, 255.0) == pytest.approx(
        peak_signal_noise_ratio(gt.astype(np.float64), pred.astype(np.float64), data_range=255.0))
    assert psnr(gt, gt) == float("inf")


def test_ssim_matches_skimage_and_small_volume():
    pred, gt = _pair((40, 48, 2))
    ref = structural_similarity(pred.astype(np.float64), gt.astype(np.float64),
                                data_range=data_range(gt), channel_axis=-1)
    assert ssim(pred, gt, 2) == pytest.approx(ref)
    pred, gt = _pair((4, 32, 32, 1))
    assert -1 < ssim(pred, gt, 3) < 1
    assert ssim(gt, gt, 3) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=">= 3"):
        ssim(gt[:2], gt[:2], 3)


def test_mae_and_image_metrics():
    pred, gt = _pair((8, 16, 16, 1))
    assert mae(pred, gt) == pytest.approx(np.abs(pred.astype(np.float64) - gt).mean())
    metrics = image_metrics(pred, gt)
    assert set(metrics) == {"psnr", "si_psnr", "pcc", "ssim", "mae"}
    assert all(isinstance(v, float) for v in metrics.values())
    with pytest.raises(ValueError, match="shape"):
        mae(pred, gt[:4])


def _si_psnr_reference(pred, gt):
    p, g = pred.astype(np.float64).ravel(), gt.astype(np.float64).ravel()
    a, b = np.polyfit(p, g, 1)
    return psnr((a * p + b).reshape(gt.shape), gt)


def test_all_metrics_match_references_and_blocks_are_exact():
    from skimage.metrics import normalized_root_mse

    pred, gt = _pair((12, 20, 2))
    pred, gt = 3.0 * pred + 20000.0, gt + 20000.0  # offset data: the shifted sums stay exact
    whole = image_metrics(pred, gt, METRICS)
    assert set(whole) == set(METRICS)
    g64, p64 = gt.astype(np.float64), pred.astype(np.float64)
    assert whole["si_psnr"] == pytest.approx(_si_psnr_reference(pred, gt), abs=1e-6)
    assert whole["pcc"] == pytest.approx(np.corrcoef(p64.ravel(), g64.ravel())[0, 1], rel=1e-9)
    assert whole["nrmse"] == pytest.approx(normalized_root_mse(g64, p64, normalization="min-max"))
    assert whole["mse"] == pytest.approx(np.mean((p64 - g64) ** 2))
    assert whole["ssim"] == pytest.approx(ssim(pred, gt, 2))
    blocks = image_metrics(pred, gt, METRICS, max_bytes=1)  # one row per block
    for key in METRICS:
        assert blocks[key] == pytest.approx(whole[key], rel=1e-9), key
    assert set(image_metrics(pred, gt, ("psnr",))) == {"psnr"}
    constant = np.broadcast_to(np.float64(5.0), gt.shape)
    flat = image_metrics(constant, gt, ("pcc", "si_psnr"))
    assert np.isnan(flat["pcc"])
    assert flat["si_psnr"] == pytest.approx(psnr(np.full(gt.shape, g64.mean()), gt))


def test_fit_channels_picks_the_informative_channel():
    rng = np.random.default_rng(1)
    signal = rng.random((16, 16))
    x = np.stack([rng.random((16, 16)), 200 - 40 * signal], axis=-1).astype(np.float32)
    y = (1000 + 500 * signal)[..., None]
    fits = fit_channels(x, y, max_bytes=1)
    assert len(fits) == 1 and fits[0].source == 1 and fits[0].r2 == pytest.approx(1.0)
    fitted = AffineChannels(x, fits)
    assert fitted.shape == y.shape
    np.testing.assert_allclose(fitted[3:5], y[3:5], rtol=1e-5)
    assert describe_fits(fits) == "input ch 2 (affine fit)"


def test_crop_border():
    image = np.zeros((10, 20, 1))
    assert crop_border(image, (1, 3)).shape == (8, 14, 1)
    assert crop_border(image, ()).shape == image.shape
    with pytest.raises(ValueError, match="leaves nothing"):
        crop_border(image, (5, 0))
