"""Each BiaPy augmentation changes what it should and only that, in 2D and 3D."""

import warnings

import numpy as np
import pytest
import yaml

from i2i_nb.config import AugmentorConfig, config_from_dict, load_config
from i2i_nb.data.augment import Augment, draw_grid
from i2i_nb.data.patches import PatchDataset
from i2i_nb.errors import ConfigError

GEOMETRIC = ["VFLIP", "HFLIP", "ZFLIP", "ROT90", "RANDOM_ROT", "SHEAR", "ZOOM", "SHIFT",
             "ELASTIC", "MISALIGNMENT"]
INPUT_ONLY = ["GAMMA_CONTRAST", "BRIGHTNESS", "CONTRAST", "G_BLUR", "MEDIAN_BLUR",
              "MOTION_BLUR", "GAUSSIAN_NOISE", "POISSON_NOISE", "SALT", "PEPPER",
              "SALT_AND_PEPPER", "DROPOUT", "CUTOUT", "CUTBLUR", "CUTNOISE", "GRIDMASK",
              "MISSING_SECTIONS", "GRAYSCALE", "CHANNEL_SHUFFLE"]
ALL = GEOMETRIC + INPUT_ONLY + ["CUTMIX"]
SHAPES = {2: (24, 24, 3), 3: (8, 24, 24, 3)}


def only(*keys, **extra) -> AugmentorConfig:
    """Every augmentation off but ``keys``, each with probability 1."""
    values = {k.lower(): False for k in ALL}
    values.update({k.lower(): True for k in keys})
    values.update({k.lower() + "_prob": 1.0 for k in keys})
    values.update(extra)
    return AugmentorConfig(**values)


def _image(ndim, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random(SHAPES[ndim]).astype(np.float32)
    x[..., 1] *= 0.5  # channels differ (CHANNEL_SHUFFLE, GRAYSCALE)
    x[..., 2] = 0.25 + 0.5 * x[..., 2]
    return x


@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize("key", GEOMETRIC)
def test_geometric_moves_input_and_target_together(key, ndim):
    x = _image(ndim)
    augment = Augment(only(key))
    changed = False
    for seed in range(4):
        applied = []
        ax, ay = augment.apply(x, x.copy(), np.random.default_rng(seed), applied=applied)
        assert ax.shape == x.shape and ax.dtype == np.float32
        np.testing.assert_array_equal(ax, ay)  # a target equal to the input stays equal
        changed |= not np.array_equal(ax, x)
        assert applied == ([key] if key != "ZFLIP" or ndim == 3 else [])
    assert changed == (key != "ZFLIP" or ndim == 3)


@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize("key", INPUT_ONLY)
def test_input_only_leaves_the_target(key, ndim):
    x, y = _image(ndim), _image(ndim, seed=1)
    extra = {"cblur_inside": False} if key == "CUTBLUR" else {}
    ax, ay = Augment(only(key, **extra)).apply(x, y.copy(), np.random.default_rng(3))
    np.testing.assert_array_equal(ay, y)
    assert ax.shape == x.shape and not np.allclose(ax, x)
    again = Augment(only(key, **extra)).apply(x, y.copy(), np.random.default_rng(3))[0]
    np.testing.assert_array_equal(ax, again)  # the patch's generator decides everything


@pytest.mark.parametrize("ndim", [2, 3])
def test_flips_each_reverse_their_own_axis(ndim):
    x = _image(ndim)
    for key, axis in (("VFLIP", ndim - 2), ("HFLIP", ndim - 1), ("ZFLIP", 0)):
        seen = set()
        for seed in range(12):
            ax = Augment(only(key, **{key.lower() + "_prob": 0.5})).apply(
                x, x, np.random.default_rng(seed))[0]
            if np.array_equal(ax, x):
                seen.add("same")
            else:
                np.testing.assert_array_equal(ax, np.flip(x, axis))
                seen.add("flipped")
        assert seen == ({"same", "flipped"} if key != "ZFLIP" or ndim == 3 else {"same"})


def test_rot90_turns_the_plane_exactly_and_zero_probability_does_nothing():
    x = _image(3)
    turned = Augment(only("ROT90")).apply(x, x, np.random.default_rng(0))[0]
    assert any(np.array_equal(turned, np.rot90(x, k, (1, 2))) for k in (1, 2, 3))
    everything = {k.lower(): True for k in ALL}
    ax, ay = Augment(AugmentorConfig(**everything, **{k.lower() + "_prob": 0.0 for k in ALL})
                     ).apply(x, x, np.random.default_rng(0), donor=(x, x))
    np.testing.assert_array_equal(ax, x)


@pytest.mark.parametrize("ndim", [2, 3])
def test_cutmix_pastes_the_same_box_of_the_donor_in_both(ndim):
    x, donor = _image(ndim), _image(ndim, seed=5)
    ax, ay = Augment(only("CUTMIX")).apply(x, x.copy(), np.random.default_rng(0),
                                           donor=(donor, donor.copy()))
    np.testing.assert_array_equal(ax, ay)
    assert not np.array_equal(ax, x)
    assert np.isin(ax, donor).any(axis=-1).sum() > 0


@pytest.mark.parametrize("ndim", [2, 3])
def test_cutout_reaches_the_target_only_when_asked(ndim):
    x = _image(ndim) + 1.0
    ax, ay = Augment(only("CUTOUT", cout_apply_to_mask=True, cout_cval=0.0)).apply(
        x, x.copy(), np.random.default_rng(0))
    assert (ax == 0).any()
    np.testing.assert_array_equal(ay == 0, ax == 0)


def test_default_is_todays_flips_and_quarter_turns():
    x = _image(2)
    outputs = {Augment().apply(x, x, np.random.default_rng(s))[0].tobytes() for s in range(80)}
    assert len(outputs) == 8  # the 8 symmetries of the (y, x) square, nothing else


def test_draw_grid_marks_rows_and_columns():
    image = np.zeros((3, 10, 10, 2), np.float32)
    image[1, 5, 5] = (1.0, 2.0)
    grid = draw_grid(image)  # every 2nd row and column of every z, at each channel's maximum
    assert (grid[:, ::2, :, 1] == 2.0).all() and (grid[:, :, ::2, 0] == 1.0).all()
    assert (grid[:, 1::2, 1::2][grid[:, 1::2, 1::2] != image[:, 1::2, 1::2]].size == 0)
    assert not image[0, 0, 0].any()  # a copy


def test_patch_dataset_feeds_a_donor_and_records_samples():
    pairs = [(_image(2), _image(2, 1)), (_image(2, 2), _image(2, 3))]
    data = PatchDataset(pairs, (16, 16), 4, Augment(only("CUTMIX", "GAUSSIAN_NOISE")), seed=0)
    sample = data.sample(1, grid=True)
    assert sample.applied == ["CUTMIX", "GAUSSIAN_NOISE"]
    assert sample.x.shape == sample.aug_x.shape == (16, 16, 3)
    np.testing.assert_array_equal(data[1][0].numpy(), data[1][0].numpy())


def test_old_da_prob_sets_every_probability_left_out(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump({"AUGMENTOR": {"DA_PROB": 0.3, "ROT90_PROB": 0.9}}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = load_config(path)
    assert cfg.augmentor.rot90_prob == 0.9
    assert cfg.augmentor.elastic_prob == cfg.augmentor.vflip_prob == 0.3


@pytest.mark.parametrize(("section", "key"), [
    ({"CUTOUT_PROB": 1.5}, "AUGMENTOR.CUTOUT_PROB"),
    ({"RANDOM_ROT": True, "RANDOM_ROT_RANGE": [-400, 10]}, "AUGMENTOR.RANDOM_ROT_RANGE"),
    ({"ELASTIC": True, "E_MODE": "edge"}, "AUGMENTOR.E_MODE"),
    ({"AFFINE_MODE": "nearest"}, "AUGMENTOR.AFFINE_MODE"),
    ({"CUTBLUR": True, "CBLUR_DOWN_RANGE": [2, 9]}, "AUGMENTOR.CBLUR_DOWN_RANGE"),
    ({"GRIDMASK": True, "GRID_D_RANGE": [0.8, 0.4]}, "AUGMENTOR.GRID_D_RANGE"),
    ({"ZOOM": True, "ZOOM_RANGE": [0.05, 1.0]}, "AUGMENTOR.ZOOM_RANGE"),
    ({"SALT": True, "SALT_AMOUNT": 2.0}, "AUGMENTOR.SALT_AMOUNT"),
])
def test_out_of_range_values_are_refused_naming_the_key(section, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        config_from_dict({"AUGMENTOR": section})


def test_gamma_contrast_refuses_zero_mean_inputs_as_biapy():
    with pytest.raises(ConfigError, match="AUGMENTOR.GAMMA_CONTRAST"):
        config_from_dict({"AUGMENTOR": {"GAMMA_CONTRAST": True},
                          "DATA": {"NORMALIZATION": {"TYPE": "zero_mean_unit_variance"}}})


def test_grid_patches_are_augmented_and_sampled_the_same_way():
    from i2i_nb.data.grid import GridPatchDataset

    pairs = [(_image(2), _image(2, 1))]
    data = GridPatchDataset(pairs, (12, 12), Augment(only("CUTMIX", "HFLIP")), seed=0)
    assert len(data) == 4
    sample = data.sample(0)
    assert sample.applied == ["HFLIP", "CUTMIX"]
    np.testing.assert_array_equal(data[0][0].numpy(), np.moveaxis(sample.aug_x, -1, 0))


def test_train_resolution_scales_cutout_boxes_to_the_same_physical_size():
    cfg = config_from_dict({"PROBLEM": {"NDIM": "3D"}, "DATA": {"PATCH_SIZE": [8, 32, 32]},
                            "AUGMENTOR": {"CUTOUT": True, "CUTOUT_PROB": 1.0,
                                          "COUT_SIZE": [0.5, 0.5],
                                          "COUT_NB_ITERATIONS": [1, 1]}})
    x = np.ones((8, 32, 32, 1), np.float32)

    def extent(resolution):
        out, _ = Augment(cfg.augmentor, resolution).apply(x, x.copy(),
                                                          np.random.default_rng(0))
        hole = np.argwhere(out[..., 0] == 0)
        return tuple(int(v) for v in hole.max(axis=0) - hole.min(axis=0) + 1)

    assert extent((-1.0,)) == (4, 16, 16)
    assert extent((4.0, 1.0, 1.0)) == (1, 16, 16)  # z voxels 4x coarser: a quarter as many
    assert extent((1.0, 2.0, 1.0)) == (4, 8, 16)
