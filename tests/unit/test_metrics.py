import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from i2i_nb.metrics import data_range, image_metrics, mae, psnr, ssim

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
    assert set(metrics) == {"psnr", "ssim", "mae"}
    assert all(isinstance(v, float) for v in metrics.values())
    with pytest.raises(ValueError, match="shape"):
        mae(pred, gt[:4])
