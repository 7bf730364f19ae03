"""``AUGMENTOR``: augmentations of the training patches (BiaPy 3.7.1's keys and meanings).

Each augmentation ``NAME`` is switched on by ``NAME: True`` and applied to a patch with
probability ``NAME_PROB`` (BiaPy 3.7.1's per-augmentation probabilities; an old
``DA_PROB`` sets every ``*_PROB`` a file leaves out, as BiaPy converts it). What each
one does, and whether it changes the target too, is in :mod:`i2i_nb.data.augment`.

Defaults differ from BiaPy's where this project's did before: augmentation is on, with
flips on each axis and 90-degree rotations (``ROT90_PROB`` 0.75 with a turn of 90, 180 or
270 degrees: together with the flips, every one of the 8 (y, x) symmetries is equally
likely, as before BiaPy's keys were honoured). Everything else is off, as in BiaPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _range(low: float, high: float) -> list:
    return field(default_factory=lambda: [low, high])


@dataclass
class AugmentorConfig:
    """``AUGMENTOR``: one switch, probability and range keys per augmentation.

    Ranges are ``[low, high]``; a value is drawn uniformly from each per patch. Sizes
    (``COUT_SIZE``, ``CBLUR_SIZE``, ``CMIX_SIZE``, ``CNOISE_SIZE``) are fractions of the
    patch's y and x sizes; ``SHIFT_RANGE`` is a fraction of them too; angles are degrees.
    """

    enable: bool = True
    # per-augmentation probabilities (BiaPy 3.7.1)
    zoom_prob: float = 0.5
    random_rot_prob: float = 0.5
    rot90_prob: float = 0.75
    shear_prob: float = 0.5
    shift_prob: float = 0.5
    vflip_prob: float = 0.5
    hflip_prob: float = 0.5
    zflip_prob: float = 0.5
    elastic_prob: float = 0.5
    g_blur_prob: float = 0.5
    median_blur_prob: float = 0.5
    motion_blur_prob: float = 0.5
    gamma_contrast_prob: float = 0.5
    brightness_prob: float = 0.5
    contrast_prob: float = 0.5
    dropout_prob: float = 0.5
    cutout_prob: float = 0.5
    cutblur_prob: float = 0.5
    cutmix_prob: float = 0.5
    cutnoise_prob: float = 0.5
    misalignment_prob: float = 0.5
    missing_sections_prob: float = 0.5
    grayscale_prob: float = 0.5
    channel_shuffle_prob: float = 0.5
    gridmask_prob: float = 0.5
    gaussian_noise_prob: float = 0.5
    poisson_noise_prob: float = 0.5
    salt_prob: float = 0.5
    pepper_prob: float = 0.5
    salt_and_pepper_prob: float = 0.5
    # samples of augmented patches in the run's aug/ folder
    aug_samples: bool = True
    draw_grid: bool = True
    aug_num_samples: int = 10
    # geometric: the same on input and target
    rot90: bool = True
    random_rot: bool = False
    random_rot_range: list[float] = _range(-180.0, 180.0)
    shear: bool = False
    shear_range: list[float] = _range(-20.0, 20.0)
    zoom: bool = False
    zoom_range: list[float] = _range(0.5, 1.5)
    zoom_in_z: bool = False
    shift: bool = False
    shift_range: list[float] = _range(0.1, 0.2)
    affine_mode: str = "reflect"
    vflip: bool = True
    hflip: bool = True
    zflip: bool = True
    elastic: bool = False
    e_alpha: list[float] = _range(12.0, 16.0)
    e_sigma: float = 4.0
    e_mode: str = "constant"
    # intensity and corruption: the input only (CUTOUT: the target too when
    # COUT_APPLY_TO_MASK; CUTMIX and MISALIGNMENT: both, as in BiaPy)
    g_blur: bool = False
    g_sigma: list[float] = _range(1.0, 2.0)
    median_blur: bool = False
    mb_kernel: list[int] = _range(3, 7)
    motion_blur: bool = False
    motb_k_range: list[int] = _range(8, 12)
    gamma_contrast: bool = False
    gc_gamma: list[float] = _range(1.25, 1.75)
    brightness: bool = False
    brightness_factor: list[float] = _range(-0.1, 0.1)
    contrast: bool = False
    contrast_factor: list[float] = _range(-0.1, 0.1)
    dropout: bool = False
    drop_range: list[float] = _range(0.0, 0.2)
    cutout: bool = False
    cout_nb_iterations: list[int] = _range(1, 3)
    cout_size: list[float] = _range(0.05, 0.3)
    cout_cval: float = 0.0
    cout_apply_to_mask: bool = False
    cutblur: bool = False
    cblur_size: list[float] = _range(0.2, 0.4)
    cblur_down_range: list[int] = _range(2, 8)
    cblur_inside: bool = True
    cutmix: bool = False
    cmix_size: list[float] = _range(0.2, 0.4)
    cutnoise: bool = False
    cnoise_scale: list[float] = _range(0.05, 0.1)
    cnoise_nb_iterations: list[int] = _range(1, 3)
    cnoise_size: list[float] = _range(0.2, 0.4)
    misalignment: bool = False
    ms_displacement: int = 16
    ms_rotate_ratio: float = 0.5
    missing_sections: bool = False
    missp_channel_pb: float = 0.5
    missp_iterations: list[int] = _range(10, 30)
    grayscale: bool = False
    channel_shuffle: bool = False
    gridmask: bool = False
    grid_ratio: float = 0.6
    grid_d_range: list[float] = _range(0.4, 1.0)
    grid_rotate: float = 1.0
    grid_invert: bool = False
    gaussian_noise: bool = False
    gaussian_noise_mean: float = 0.0
    gaussian_noise_var: float = 0.05
    gaussian_noise_use_input_img_mean_and_var: bool = False
    poisson_noise: bool = False
    salt: bool = False
    salt_amount: float = 0.05
    pepper: bool = False
    pepper_amount: float = 0.05
    salt_and_pepper: bool = False
    salt_and_pepper_amount: float = 0.05
    salt_and_pepper_prop: float = 0.5


def probability_keys() -> list[str]:
    """The ``AUGMENTOR.*_PROB`` keys (those an old ``DA_PROB`` stands for)."""
    return [f"AUGMENTOR.{name.upper()}" for name in AugmentorConfig.__dataclass_fields__
            if name.endswith("_prob")]
