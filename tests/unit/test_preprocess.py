"""DATA.PREPROCESS and DATA.*.FILTER_SAMPLES: each key changes what it says."""

import numpy as np
import pytest
import tifffile

from i2i_nb.config import config_from_dict
from i2i_nb.config.preprocess import FilterSamplesConfig
from i2i_nb.data.filtering import kept_images, kept_places, meets
from i2i_nb.data.preprocess import Preprocessor
from i2i_nb.errors import ConfigError


def _prep(ndim: int = 2, **keys: dict) -> Preprocessor:
    values = {"PROBLEM": {"NDIM": f"{ndim}D"},
              "DATA": {"PATCH_SIZE": [16, 16] if ndim == 2 else [4, 16, 16],
                       "PREPROCESS": {"TRAIN": True, **keys}}}
    cfg = config_from_dict(values)
    return Preprocessor(cfg.data.preprocess, cfg.ndim)


def _image(shape=(32, 40, 1), seed=0, dtype=np.uint16) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random(shape) * 1000 + 100).astype(dtype)


def test_switches_say_which_sets_are_preprocessed():
    prep = _prep(GAUSSIAN_BLUR={"ENABLE": True})
    assert prep.applies("train") and not prep.applies("val") and not prep.applies("test")
    assert not _prep().applies("train")  # no operation on


def test_resize_changes_input_and_target_size_and_restore_undoes_it():
    prep = _prep(RESIZE={"ENABLE": True, "OUTPUT_SHAPE": [20, 24]})
    x, y = _image(), _image(seed=1)
    assert prep.input(x).shape == (20, 24, 1) and prep.input(x).dtype == np.uint16
    assert prep.target(y).shape == (20, 24, 1)
    restored = prep.restore(prep.input(x).astype(np.float32), x.shape[:-1])
    assert restored.shape == x.shape


def test_resize_order_zero_keeps_only_values_of_the_image():
    prep = _prep(RESIZE={"ENABLE": True, "OUTPUT_SHAPE": [50, 60], "ORDER": 0})
    x = _image()
    assert set(np.unique(prep.input(x))) <= set(np.unique(x))
    linear = _prep(RESIZE={"ENABLE": True, "OUTPUT_SHAPE": [50, 60]}).input(x)
    assert not set(np.unique(linear)) <= set(np.unique(x))


def test_resize_3d_default_shape_is_biapy_s_cube():
    prep = _prep(3, RESIZE={"ENABLE": True})
    assert tuple(prep.cfg.resize.output_shape) == (512, 512, 512)


def test_gaussian_blur_smooths_the_input_only_and_keeps_its_dtype():
    prep = _prep(GAUSSIAN_BLUR={"ENABLE": True, "SIGMA": 2})
    x = _image()
    out = prep.input(x)
    assert out.dtype == np.uint16 and out.std() < x.std() / 3
    assert abs(float(out.mean()) - float(x.mean())) < 5  # range kept (uint16 scaled back)
    assert prep.target(x) is x


def test_median_blur_removes_a_hot_pixel():
    x = np.full((20, 20, 1), 100, np.uint16)
    x[10, 10] = 60000
    out = _prep(MEDIAN_BLUR={"ENABLE": True, "KERNEL_SIZE": [3, 3, 1]}).input(x)
    assert out[10, 10, 0] == 100


def test_match_histogram_gives_the_reference_s_histogram(tmp_path):
    reference = (np.random.default_rng(3).random((64, 64)) * 50 + 200).astype(np.uint8)
    tifffile.imwrite(tmp_path / "ref.tif", reference)
    prep = _prep(MATCH_HISTOGRAM={"ENABLE": True, "REFERENCE_PATH": str(tmp_path)})
    x = (np.random.default_rng(4).random((64, 64, 1)) * 100).astype(np.uint8)
    out = prep.input(x)
    assert abs(float(np.median(out)) - float(np.median(reference))) < 2
    assert out.min() >= reference.min() - 1 and out.max() <= reference.max()


def test_clahe_raises_local_contrast():
    x = np.zeros((64, 64, 1), np.uint16)
    x[:, :32] = 1000
    x[:, 32:] = 1010
    x += (np.random.default_rng(5).random(x.shape) * 5).astype(np.uint16)
    out = _prep(CLAHE={"ENABLE": True}).input(x)
    assert out.dtype == np.uint16
    assert np.ptp(out) > 100 * np.ptp(x)
    assert _prep(CLAHE={"ENABLE": True, "KERNEL_SIZE": 8}).input(x).shape == x.shape


def test_canny_gives_one_channel_of_edges():
    x = np.zeros((40, 40, 3), np.float32)
    x[:, 20:] = 1.0
    prep = _prep(CANNY={"ENABLE": True})
    out = prep.input(x)
    assert out.shape == (40, 40, 1) and out.dtype == np.uint8
    assert set(np.unique(out)) == {0, 255}
    assert out[:, 18:22].any() and not out[:, :10].any()
    assert prep.channels(3) == 1


@pytest.mark.parametrize(("keys", "named"), [
    ({"RESIZE": {"ENABLE": True, "OUTPUT_SHAPE": [8, 8]}}, "RESIZE.OUTPUT_SHAPE"),
    ({"RESIZE": {"ENABLE": True, "OUTPUT_SHAPE": [32, 32, 32]}}, "RESIZE.OUTPUT_SHAPE"),
    ({"MEDIAN_BLUR": {"ENABLE": True, "KERNEL_SIZE": [3, 3]}}, "MEDIAN_BLUR.KERNEL_SIZE"),
    ({"MATCH_HISTOGRAM": {"ENABLE": True, "REFERENCE_PATH": "/no/such"}}, "REFERENCE_PATH"),
    ({"GAUSSIAN_BLUR": {"ENABLE": True, "MODE": "bogus"}}, "GAUSSIAN_BLUR.MODE"),
])
def test_bad_preprocess_values_are_refused_naming_the_key(keys, named):
    with pytest.raises(ConfigError, match=named):
        _prep(**keys)


def test_test_filter_is_refused_block_wise():
    with pytest.raises(ConfigError, match="DATA.TEST.FILTER_SAMPLES.ENABLE"):
        config_from_dict({"DATA": {"TEST": {"FILTER_SAMPLES": {
            "ENABLE": True, "PROPS": [["mean"]], "VALUES": [[1]], "SIGNS": [["lt"]]}}},
            "TEST": {"BY_CHUNKS": {"ENABLE": True}}})


def test_canny_is_refused_in_3d():
    with pytest.raises(ConfigError, match="CANNY"):
        _prep(3, CANNY={"ENABLE": True})


def _filter(props, values, signs, norm_before=False) -> FilterSamplesConfig:
    return FilterSamplesConfig(True, props, values, signs, norm_before)


def test_filter_drops_a_sample_meeting_all_conditions_of_any_list():
    x = np.full((8, 8, 1), 10.0)
    y = np.full((8, 8, 1), 12.0)
    assert meets(x, y, _filter([["mean"]], [[5]], [["gt"]]))
    assert not meets(x, y, _filter([["mean", "max"]], [[5, 20]], [["gt", "gt"]]))
    assert meets(x, y, _filter([["mean", "max"], ["min"]], [[5, 20], [10]],
                               [["gt", "gt"], ["le"]]))
    assert meets(x, y, _filter([["target_mean"]], [[12]], [["ge"]]))
    assert not meets(x, y, _filter([["target_max"]], [[12]], [["lt"]]))
    assert meets(x, y, _filter([["diff"]], [[128]], [["ge"]]))  # sum of |x - y|: 64 * 2
    assert not meets(x, y, _filter([["diff"]], [[128]], [["gt"]]))


def test_diff_ratio_uses_the_whole_image_range():
    x, y = np.zeros((4, 4, 1)), np.ones((4, 4, 1))
    x[0, 0] = 3.0  # x range 3; diff 2 + 15 = 17
    f = _filter([["diff_by_min_max_ratio"]], [[50]], [["gt"]])
    assert meets(x, y, f)  # 17 * 3 = 51
    assert not meets(x, y, f, x_range=1.0)


def test_kept_images_and_norm_before():
    norm = config_from_dict({}).data.normalization
    dark = (np.full((16, 16, 1), 5.0), np.ones((16, 16, 1)))
    bright = (np.full((16, 16, 1), 500.0), np.ones((16, 16, 1)))
    assert kept_images([dark, bright], _filter([["mean"]], [[100]], [["gt"]]), norm) == [0]
    noisy = np.random.default_rng(0).normal(500, 5, (16, 16, 1))
    # normalised by its own mean and std first, the bright image's mean is about 0
    assert kept_images([(noisy, noisy)], _filter([["mean"]], [[100]], [["gt"]], True),
                       norm) == [0]


def test_kept_places_drops_patches_one_by_one():
    norm = config_from_dict({}).data.normalization
    x = np.zeros((16, 32, 1))
    x[:, 16:] = 100.0
    places = [(0, [0, 0]), (0, [0, 16])]
    kept = kept_places([(x, x)], places, (16, 16), _filter([["max"]], [[50]], [["gt"]]), norm)
    assert kept == [(0, [0, 0])]


def test_train_resolution_is_checked():
    with pytest.raises(ConfigError, match="DATA.TRAIN.RESOLUTION"):
        config_from_dict({"DATA": {"TRAIN": {"RESOLUTION": [1, 1, 1]}}})
    assert config_from_dict({"DATA": {"TRAIN": {"RESOLUTION": [1, 2]}}}).data.train.resolution \
        == (1.0, 2.0)


def test_resolution_norm_rescales_listed_images_in_plane(tmp_path):
    import json

    from i2i_nb.data.resolution import normalise_resolution, resolution_map

    (tmp_path / "x").mkdir()
    (tmp_path / "resolution.json").write_text(json.dumps({"a.tif": [5, 0.5, 0.5]}))
    resolutions = resolution_map(str(tmp_path / "x"))
    assert resolutions == {"a.tif": [5.0, 0.5, 0.5]}
    image = _image((3, 10, 12, 1))
    out = normalise_resolution([(image, image), (image, None)],
                               [tmp_path / "x" / "a.tif", tmp_path / "x" / "b.tif"],
                               resolutions, 0.25)
    assert out[0][0].shape == (3, 20, 24, 1) and out[0][1].shape == (3, 20, 24, 1)
    assert out[1][0] is image  # not listed: as it is
    with pytest.raises(ConfigError, match="TARGET_RESOLUTION"):
        config_from_dict({"DATA": {"RESOLUTION_NORM": {"ENABLE": True}}})


def test_3d_volumes_are_resized_blurred_and_equalised():
    prep = _prep(3, RESIZE={"ENABLE": True, "OUTPUT_SHAPE": [6, 20, 24]},
                 MEDIAN_BLUR={"ENABLE": True, "KERNEL_SIZE": [1, 3, 3, 1]},
                 CLAHE={"ENABLE": True})
    x = _image((4, 16, 16, 1))
    out = prep.input(x)
    assert out.shape == (6, 20, 24, 1) and out.dtype == np.uint16
    assert prep.restore(out.astype(np.float32), (4, 16, 16)).shape == (4, 16, 16, 1)
