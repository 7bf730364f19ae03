"""BiaPy 3.7.1's training augmentations for image to image, 2D and 3D from one code path.

:class:`Augment` applies the augmentations an :class:`~i2i_nb.config.AugmentorConfig`
switches on, each with its own probability (``*_PROB``), to a channel-last input patch
and its target, drawing every random number from the patch's generator (so a patch is
the same whatever the number of workers). What changes the target is what BiaPy's
image-to-image generator changes:

- geometric, identical on input and target: ZFLIP (z), VFLIP (y, the rows), HFLIP (x, the
  columns), ROT90 (a quarter, half or three-quarter turn of the (y, x) plane), and ZOOM
  (+ ZOOM_IN_Z), RANDOM_ROT, SHEAR and SHIFT composed into one resampling (AFFINE_MODE
  fills the border), ELASTIC (E_MODE), MISALIGNMENT, CUTMIX (a box of another patch);
- the input only: GRAYSCALE, CHANNEL_SHUFFLE, CUTBLUR, CUTNOISE, BRIGHTNESS, CONTRAST,
  GAMMA_CONTRAST, GAUSSIAN_NOISE, POISSON_NOISE, SALT, PEPPER, SALT_AND_PEPPER,
  MISSING_SECTIONS, GRIDMASK, G_BLUR, MEDIAN_BLUR, MOTION_BLUR, DROPOUT, and CUTOUT (the
  target too when COUT_APPLY_TO_MASK).

They run in BiaPy's order, except that flips, 90-degree turns, shear and shift happen with
the other affine ones at the start (one interpolation instead of three; flips and turns of
a square plane move voxels exactly). BiaPy 3.7.1's code reverses x for VFLIP and y for
HFLIP, against its own docstrings; here each flips the axis its name says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from i2i_nb.config.augmentor import AugmentorConfig
from i2i_nb.data.augment import geometric, intensity, regions

__all__ = ["Augment", "Step", "draw_grid"]


@dataclass(frozen=True)
class Step:
    """One augmentation after the geometric ones: its BiaPy key, probability, and whether
    it changes the input only (``run(x, rng)``), both (``run(x, y, rng)``) or both from a
    donor patch (``run(x, y, rng, donor)``)."""

    key: str
    prob: float
    kind: str
    run: Callable


def _steps(c: AugmentorConfig, scale: tuple[float, ...] = ()) -> list[Step]:
    """The enabled non-geometric steps, in BiaPy's order (``scale``: CUTOUT's box scale per
    spatial axis)."""
    table = [
        ("GRAYSCALE", "input", partial(intensity.grayscale)),
        ("CHANNEL_SHUFFLE", "input", partial(intensity.channel_shuffle)),
        ("CUTBLUR", "input", partial(regions.cutblur, size=c.cblur_size,
                                     down=c.cblur_down_range, inside=c.cblur_inside)),
        ("CUTMIX", "donor", partial(regions.cutmix, size=c.cmix_size)),
        ("CUTNOISE", "input", partial(regions.cutnoise, scale=c.cnoise_scale,
                                      iterations=c.cnoise_nb_iterations, size=c.cnoise_size)),
        ("MISALIGNMENT", "pair", partial(geometric.misalignment,
                                         displacement=c.ms_displacement,
                                         rotate_ratio=c.ms_rotate_ratio)),
        ("BRIGHTNESS", "input", partial(intensity.brightness, factor=c.brightness_factor)),
        ("CONTRAST", "input", partial(intensity.contrast, factor=c.contrast_factor)),
        ("GAMMA_CONTRAST", "input", partial(intensity.gamma_contrast, gamma=c.gc_gamma)),
        ("GAUSSIAN_NOISE", "input", partial(
            intensity.gaussian_noise, mean=c.gaussian_noise_mean, var=c.gaussian_noise_var,
            from_image=c.gaussian_noise_use_input_img_mean_and_var)),
        ("POISSON_NOISE", "input", partial(intensity.poisson_noise)),
        ("SALT", "input", partial(intensity.salt_pepper, mode="salt", amount=c.salt_amount)),
        ("PEPPER", "input", partial(intensity.salt_pepper, mode="pepper",
                                    amount=c.pepper_amount)),
        ("SALT_AND_PEPPER", "input", partial(intensity.salt_pepper, mode="s&p",
                                             amount=c.salt_and_pepper_amount,
                                             salt_vs_pepper=c.salt_and_pepper_prop)),
        ("MISSING_SECTIONS", "input", partial(regions.missing_sections,
                                              iterations=c.missp_iterations,
                                              channel_pb=c.missp_channel_pb)),
        ("GRIDMASK", "input", partial(regions.gridmask, ratio=c.grid_ratio,
                                      d_range=c.grid_d_range, rotate=c.grid_rotate,
                                      invert=c.grid_invert)),
        ("CUTOUT", "pair", partial(regions.cutout, iterations=c.cout_nb_iterations,
                                   size=c.cout_size, cval=c.cout_cval,
                                   to_target=c.cout_apply_to_mask, scale=scale)),
        ("ELASTIC", "pair", partial(geometric.elastic, alpha=c.e_alpha, sigma=c.e_sigma,
                                    mode=c.e_mode)),
        ("G_BLUR", "input", partial(intensity.gaussian_blur, sigma=c.g_sigma)),
        ("MEDIAN_BLUR", "input", partial(intensity.median_blur, k_range=c.mb_kernel)),
        ("MOTION_BLUR", "input", partial(intensity.motion_blur, k_range=c.motb_k_range)),
        ("DROPOUT", "input", partial(intensity.dropout, drop_range=c.drop_range)),
    ]
    return [Step(key, getattr(c, key.lower() + "_prob"), kind, run)
            for key, kind, run in table if getattr(c, key.lower())]


class Augment:
    """The augmentations ``cfg`` switches on (default: flips on every axis and 90-degree
    turns, this project's defaults), for patches of input and target.

    Parameters
    ----------
    cfg : AugmentorConfig, optional
        ``AUGMENTOR`` section; ``ENABLE`` is the caller's business (no Augment when off).
    resolution : sequence of float, optional
        ``DATA.TRAIN.RESOLUTION``, the voxel size per spatial axis (``(y, x)`` or
        ``(z, y, x)``; empty or BiaPy's ``(-1,)``: isotropic): CUTOUT's boxes span the same
        physical size along every axis (BiaPy's only use of it).
    """

    def __init__(self, cfg: AugmentorConfig | None = None,
                 resolution: tuple[float, ...] = ()) -> None:
        self.cfg = cfg or AugmentorConfig()
        given = len(resolution) > 1 or (len(resolution) == 1 and resolution[0] > 0)
        scale = tuple(resolution[-1] / r for r in resolution) if given else ()
        self.steps = _steps(self.cfg, scale)

    @property
    def needs_donor(self) -> bool:
        """Whether :meth:`apply` wants a second patch (CUTMIX)."""
        return any(step.kind == "donor" for step in self.steps)

    def _geometry(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator,
                  applied: list[str]) -> tuple[np.ndarray, np.ndarray]:
        c, ndim = self.cfg, x.ndim - 1

        def roll(key: str) -> bool:
            hit = getattr(c, key.lower()) and rng.random() < getattr(c, key.lower() + "_prob")
            if hit:
                applied.append(key)
            return hit

        for key, axis in (("ZFLIP", 0), ("VFLIP", -2), ("HFLIP", -1)):
            if (key != "ZFLIP" or ndim == 3) and roll(key):
                x, y = geometric.flip(x, y, axis)
        angle = 0.0
        if roll("ROT90"):
            k = int(rng.integers(1, 4))
            if x.shape[-3] == x.shape[-2] or k == 2:
                x, y = geometric.rot90(x, y, k)
            else:
                angle += 90.0 * k
        scale = rng.uniform(*c.zoom_range) if roll("ZOOM") else 1.0
        if roll("RANDOM_ROT"):
            angle += rng.uniform(*c.random_rot_range)
        shear = rng.uniform(*c.shear_range, size=2) if roll("SHEAR") else (0.0, 0.0)
        shift = np.zeros(ndim)
        if roll("SHIFT"):
            fraction = rng.uniform(*c.shift_range)
            for axis in (ndim - 2, ndim - 1):
                shift[axis] = round(fraction * x.shape[axis]) * rng.choice((-1, 1))
        if scale != 1.0 or angle or any(shear) or shift.any():
            matrix = geometric.plane_matrix(ndim, angle, scale,
                                            scale if c.zoom_in_z else 1.0, shear)
            x, y = geometric.warp(x, y, matrix, shift, c.affine_mode)
        return x, y

    def apply(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator,
              donor: tuple[np.ndarray, np.ndarray] | None = None,
              applied: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Augment channel-last ``x`` and ``y`` (same spatial shape) with ``rng``.

        ``donor`` is a second (input, target) patch for CUTMIX; ``applied``, when given,
        receives the keys of the augmentations that fired, in order.
        """
        applied = [] if applied is None else applied
        x, y = self._geometry(x, y, rng, applied)
        for step in self.steps:
            if rng.random() >= step.prob:
                continue
            if step.kind == "input":
                x = step.run(x, rng)
            elif step.kind == "pair":
                x, y = step.run(x, y, rng)
            elif donor is not None:
                x, y = step.run(x, y, rng, donor)
            else:
                continue
            applied.append(step.key)
        return (np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32))


def draw_grid(image: np.ndarray, step: int | None = None) -> np.ndarray:
    """A copy of channel-last ``image`` with lines every ``step`` voxels (default a fifth
    of the y size) along y and x set to each channel's maximum (BiaPy's DRAW_GRID)."""
    out = np.array(image, dtype=np.float32, copy=True)
    step = step or max(1, out.shape[-3] // 5)
    top = out.reshape(-1, out.shape[-1]).max(axis=0)
    out[..., ::step, :, :] = top
    out[..., ::step, :] = top
    return out
