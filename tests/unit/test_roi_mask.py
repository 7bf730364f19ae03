"""DATA.TEST.ROI_MASK: the mask is found per image and stretched over it."""

import numpy as np
import pytest
import tifffile

from i2i_nb.config import config_from_dict
from i2i_nb.data.roi import RoiMask
from i2i_nb.errors import ConfigError, DataError


def test_a_coarse_mask_is_stretched_over_the_image(tmp_path):
    tifffile.imwrite(tmp_path / "m.tif", np.array([[0, 1], [0, 0]], np.uint8))
    roi = RoiMask(tmp_path / "m.tif", tmp_path / "img.tif", (4, 6), 2)
    expected = np.zeros((4, 6), bool)
    expected[:2, 3:] = True
    np.testing.assert_array_equal(roi.inside(), expected)
    np.testing.assert_array_equal(roi.inside((slice(1, 3),)), expected[1:3])
    pred = np.ones((4, 6, 2), np.float32)
    assert roi.apply(pred).sum() == 2 * 6


def test_a_folder_gives_the_mask_named_as_the_image(tmp_path):
    for name, value in (("a", 1), ("b", 0)):
        tifffile.imwrite(tmp_path / f"{name}.tif", np.full((2, 2), value, np.uint8))
    assert RoiMask(tmp_path, tmp_path / "x" / "a.tif", (4, 4), 2).inside().all()
    assert not RoiMask(tmp_path, tmp_path / "x" / "b.tif", (4, 4), 2).inside().any()
    with pytest.raises(DataError, match="none named as the test image c.tif"):
        RoiMask(tmp_path, tmp_path / "x" / "c.tif", (4, 4), 2)


def test_roi_mask_keys_are_checked():
    with pytest.raises(ConfigError, match="DATA.TEST.ROI_MASK.PATH"):
        config_from_dict({"DATA": {"TEST": {"ROI_MASK": {"ENABLE": True}}}})
    with pytest.raises(ConfigError, match="DATA.TEST.ROI_MASK.PATH"):
        config_from_dict({"DATA": {"TEST": {"ROI_MASK": {"ENABLE": True, "PATH": "/no/such"}}}})
