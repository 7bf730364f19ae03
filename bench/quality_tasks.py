"""Paired image-to-image tasks made from real images shipped inside scikit-image.

Every task starts from a photograph that the scikit-image wheel carries in its data
folder (``immunohistochemistry``, ``retina``), so nothing is downloaded. Each builder
returns a :class:`Task`: channel-last training and test pairs in the dtypes a real
acquisition would give, shaped like one everyday use (denoising, deblurring, sparse
fields, channel unmixing, anisotropic 3D, saturated targets) or one case of scarce data
(two training images, a saturated input, one training volume). Train and test pairs
come from separate parts of the image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from skimage import color, data, filters, measure

from i2i_nb.data.io import write_image

Pair = tuple[np.ndarray, np.ndarray]


@dataclass
class Task:
    """One benchmark task: channel-last (input, target) pairs and how to train on them."""

    name: str
    description: str
    ndim: int
    patch: tuple[int, ...]
    train: list[Pair]
    test: list[Pair]
    notes: list[str] = field(default_factory=list)

    @property
    def in_channels(self) -> int:
        """Channels of the inputs."""
        return int(self.train[0][0].shape[-1])

    @property
    def out_channels(self) -> int:
        """Channels of the targets."""
        return int(self.train[0][1].shape[-1])


def _unit(image: np.ndarray) -> np.ndarray:
    """Min-max scale to [0, 1] as float64."""
    image = np.asarray(image, dtype=np.float64)
    return (image - image.min()) / max(float(image.max() - image.min()), 1e-12)


def _u16(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 65535).astype(np.uint16)


def _u8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _c(image: np.ndarray) -> np.ndarray:
    """Add a channel axis to a single-channel image."""
    return image[..., None]


@cache
def ihc_rgb() -> np.ndarray:
    """scikit-image's immunohistochemistry micrograph, uint8 RGB (512, 512, 3)."""
    return data.immunohistochemistry()


@cache
def ihc_signal() -> np.ndarray:
    """Inverted grey level of the IHC image in [0, 1]: stained nuclei and membranes bright."""
    return _unit(1.0 - color.rgb2gray(ihc_rgb()))


@cache
def ihc_hematoxylin() -> np.ndarray:
    """Hematoxylin (nuclear stain) optical density of the IHC image in [0, 1]."""
    return _unit(color.rgb2hed(ihc_rgb())[..., 0])


@cache
def retina_vessels() -> np.ndarray:
    """Inverted green channel of scikit-image's fundus photograph, central 768x768, [0, 1].

    Vessels are bright on a dark, slowly varying background (like labelled vasculature);
    the crop lies inside the fundus disc.
    """
    green = data.retina()[320:1088, 320:1088, 1].astype(np.float64)
    return _unit(-green)


def _tiles(image: np.ndarray, rows: tuple[int, int], shape: tuple[int, int]) -> list[np.ndarray]:
    """Non-overlapping tiles of ``shape`` covering rows ``rows[0]:rows[1]`` of ``image``."""
    height, width = shape
    return [image[r: r + height, c: c + width]
            for r in range(rows[0], rows[1] - height + 1, height)
            for c in range(0, image.shape[1] - width + 1, width)]


def _split(image: np.ndarray, shape: tuple[int, int] = (128, 256)
           ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Training tiles from the top three quarters of ``image``, test tiles from the rest."""
    cut = image.shape[0] * 3 // 4
    return _tiles(image, (0, cut), shape), _tiles(image, (cut, image.shape[0]), shape)


def _poisson_gaussian(signal: np.ndarray, photons: float, background: float, read: float,
                      rng: np.random.Generator) -> np.ndarray:
    """Photon counts of ``signal`` (peak ``photons`` above ``background``) plus read noise."""
    counts = rng.poisson(signal * photons + background).astype(np.float64)
    return counts + rng.normal(0.0, read, size=signal.shape)


def denoise_poisson_gaussian(seed: int = 0) -> Task:
    """Short exposure (about 12 photons at the brightest pixel, read noise 1.5 e-) against
    a long exposure, both uint16 on the same camera scale (offset 100, gain 100 ADU/e-)."""
    rng = np.random.default_rng(seed)
    photons, offset, gain = 12.0, 100.0, 100.0

    def pair(signal: np.ndarray) -> Pair:
        noisy = _poisson_gaussian(signal, photons, 1.0, 1.5, rng)
        clean = signal * photons + 1.0
        return _c(_u16(offset + gain * noisy)), _c(_u16(offset + gain * clean))

    train, test = _split(ihc_signal())
    return Task("denoise_pg", "IHC grey, Poisson-Gaussian noise, 12 photons peak, uint16", 2,
                (64, 64), [pair(s) for s in train], [pair(s) for s in test])


def denoise_gain_offset(seed: int = 1) -> Task:
    """Inputs: 8-bit exports of a low-photon image (20 photons peak), stretched 0-255 between
    the 0.1 and 99.9 percentiles of all inputs together; targets: uint16 clean images with
    their own gain and offset (1000 + 30000 x signal). Units differ by ~100x."""
    rng = np.random.default_rng(seed)
    train, test = _split(ihc_signal())
    noisy = [_poisson_gaussian(s, 20.0, 2.0, 1.0, rng) for s in train + test]
    low, high = np.percentile(np.concatenate([n.ravel() for n in noisy]), [0.1, 99.9])
    pairs = [(_c(_u8(255.0 * (n - low) / (high - low))), _c(_u16(1000.0 + 30000.0 * s)))
             for n, s in zip(noisy, train + test, strict=True)]
    task = Task("gain_offset", "IHC grey, input uint8 0-255 (low photon), target uint16 "
                "offset 1000", 2, (64, 64), pairs[: len(train)], pairs[len(train):])
    task.notes.append("gain_offset: identity PSNR is low by construction (input and target "
                      "units differ); SI-PSNR is the fair baseline")
    return task


def deblur(seed: int = 2) -> Task:
    """Retina vessels blurred by a Gaussian PSF (sigma 2 px) with mild Poisson-Gaussian noise
    (200 photons peak), against the sharp image; uint16, same units."""
    rng = np.random.default_rng(seed)
    photons, offset, gain = 200.0, 100.0, 50.0

    def pair(signal: np.ndarray) -> Pair:
        blurred = filters.gaussian(signal, sigma=2.0, mode="reflect")
        noisy = _poisson_gaussian(blurred, photons, 2.0, 2.0, rng)
        return (_c(_u16(offset + gain * noisy)),
                _c(_u16(offset + gain * (signal * photons + 2.0))))

    train, test = _split(retina_vessels(), (192, 256))
    return Task("deblur", "retina vessels, Gaussian PSF sigma 2 + mild noise, uint16", 2,
                (64, 64), [pair(s) for s in train], [pair(s) for s in test])


@cache
def sparse_nuclei(keep: float = 0.2, seed: int = 3) -> np.ndarray:
    """A few of the IHC image's nuclei, [0, 1]: hematoxylin kept in a random ``keep``
    fraction of the bright blobs (soft edges), zero elsewhere."""
    h = filters.gaussian(ihc_hematoxylin(), sigma=1.0)
    labels = measure.label(h > np.percentile(h, 85))
    rng = np.random.default_rng(seed)
    chosen = [r.label for r in measure.regionprops(labels) if r.area >= 30 and rng.random() < keep]
    mask = filters.gaussian(np.isin(labels, chosen).astype(np.float64), sigma=1.0)
    return _unit(h * mask)


def sparse(seed: int = 4) -> Task:
    """Mostly dark field with a few bright nuclei: Poisson-Gaussian noise (30 photons peak,
    0.5 photon background), uint16 with a camera offset."""
    rng = np.random.default_rng(seed)
    photons, offset, gain = 30.0, 100.0, 50.0
    signal = sparse_nuclei()

    def pair(s: np.ndarray) -> Pair:
        noisy = _poisson_gaussian(s, photons, 0.5, 1.0, rng)
        return _c(_u16(offset + gain * noisy)), _c(_u16(offset + gain * (s * photons + 0.5)))

    train, test = _split(signal)
    task = Task("sparse", "sparse IHC nuclei on dark background, Poisson-Gaussian, uint16", 2,
                (64, 64), [pair(s) for s in train], [pair(s) for s in test])
    background = float(np.mean(signal < 0.05))
    task.notes.append(f"sparse: {100 * background:.1f}% of the field is background "
                      "(< 5% of the peak)")
    return task


def rgb_to_hematoxylin() -> Task:
    """RGB bright-field IHC (uint8, 3 channels) to its hematoxylin optical density (uint16)."""
    rgb, h = ihc_rgb(), ihc_hematoxylin()
    cut = rgb.shape[0] * 3 // 4
    x_train, x_test = _tiles(rgb, (0, cut), (128, 256)), _tiles(rgb, (cut, 512), (128, 256))
    y_train, y_test = _split(h)
    to_y = lambda a: _c(_u16(40000.0 * a))  # noqa: E731
    task = Task("rgb_to_h", "IHC RGB uint8 (3 ch) to hematoxylin density (1 ch, uint16)", 2,
                (64, 64), [(x, to_y(y)) for x, y in zip(x_train, y_train, strict=True)],
                [(x, to_y(y)) for x, y in zip(x_test, y_test, strict=True)])
    task.notes.append("rgb_to_h: identity = mean of the 3 input channels against the target")
    return task


def _fine_stack(signal: np.ndarray, top: int, left: int, depth: int, shape: tuple[int, int]
                ) -> np.ndarray:
    """``depth`` (y, x) crops drifting 1 px down per slice and 1 px right every other slice."""
    height, width = shape
    return np.stack([signal[top + z: top + z + height, left + z // 2: left + z // 2 + width]
                     for z in range(depth)])


def anisotropic_3d(seed: int = 5) -> Task:
    """A 3D stack with z steps 4x the pixel size: the input is blurred along z (sigma 1
    z step) and slightly in xy, with Poisson-Gaussian noise; the target is the sharp stack at
    the same planes. Structures come from IHC crops drifting through the field."""
    rng = np.random.default_rng(seed)
    step, photons, offset, gain = 4, 40.0, 100.0, 50.0
    signal = ihc_signal()

    def pair(top: int, left: int, depth: int, shape: tuple[int, int]) -> Pair:
        fine = _fine_stack(signal, top, left, depth * step, shape)
        fine = filters.gaussian(fine, sigma=(1.0, 0.0, 0.0), mode="nearest")  # continuous in z
        blurred = filters.gaussian(fine, sigma=(step, 1.0, 1.0), mode="nearest")[::step]
        sharp = fine[::step]
        noisy = _poisson_gaussian(blurred, photons, 1.0, 1.5, rng)
        return (_c(_u16(offset + gain * noisy)),
                _c(_u16(offset + gain * (sharp * photons + 1.0))))

    train = [pair(r, c, 16, (64, 64)) for r in (0, 110) for c in (0, 150, 300)]
    test = [pair(300, c, 16, (96, 128)) for c in (0, 300)]
    return Task("aniso_3d", "3D IHC stack, z step 4 px, blurred in z + noise, uint16", 3,
                (8, 48, 48), train, test)


def saturated(seed: int = 6) -> Task:
    """A noisy short exposure (uint16, unsaturated) against a long exposure whose brightest
    2% of pixels (the largest vessels) are clipped at 65535."""
    rng = np.random.default_rng(seed)
    signal = retina_vessels()
    top = float(np.percentile(signal, 98.0))
    photons, offset = 30.0, 100.0

    def pair(s: np.ndarray) -> Pair:
        noisy = _poisson_gaussian(s, photons, 1.0, 1.5, rng)
        long_exposure = 2000.0 + 63535.0 * s / top
        return _c(_u16(offset + 100.0 * noisy)), _c(_u16(long_exposure))

    train, test = _split(signal, (192, 256))
    task = Task("saturated", "retina vessels, target uint16 with 2% clipped at 65535", 2,
                (64, 64), [pair(s) for s in train], [pair(s) for s in test])
    clipped = np.mean([np.mean(y == 65535) for _, y in task.train + task.test])
    task.notes.append(f"saturated: {100 * clipped:.1f}% of target pixels are 65535")
    return task


def _pick(tiles: list[np.ndarray], count: int) -> list[np.ndarray]:
    """``count`` tiles spread evenly over ``tiles``."""
    return [tiles[i] for i in np.linspace(0, len(tiles) - 1, count).round().astype(int)]


def scarce_channels(seed: int = 7) -> Task:
    """Channel to channel with two training images: 8-bit red and blue channels of the IHC
    micrograph (the blue one stretched 2.5x, so its bright background saturates at 255) to
    the hematoxylin density (uint16), as one might predict a nuclear stain from two other
    channels of a small pilot acquisition."""
    rng = np.random.default_rng(seed)
    rgb, h = ihc_rgb().astype(np.float64), ihc_hematoxylin()
    noisy = rgb + rng.normal(0.0, 6.0, rgb.shape)
    inputs = np.stack([noisy[..., 0], 2.5 * noisy[..., 2]], axis=-1)
    x_train, x_test = _split(inputs)
    y_train, y_test = _split(h)
    to_x, to_y = _u8, lambda a: _c(_u16(1000.0 + 30000.0 * a))
    task = Task("scarce_c2c", "IHC red + saturated blue (2 ch, uint8) to hematoxylin, "
                "2 training images", 2, (64, 64),
                [(to_x(x), to_y(y)) for x, y in zip(_pick(x_train, 2), _pick(y_train, 2),
                                                    strict=True)],
                [(to_x(x), to_y(y)) for x, y in zip(x_test, y_test, strict=True)])
    clipped = np.mean([np.mean(x[..., 1] == 255) for x, _ in task.train])
    task.notes.append(f"scarce_c2c: 2 training images; {100 * clipped:.0f}% of input channel "
                      "2 is 255")
    return task


def saturated_input(seed: int = 8) -> Task:
    """Denoising whose input saturates: 8-bit short exposures of the retina vessels with the
    brightest quarter of pixels clipped at 255, against clean uint16 long exposures."""
    rng = np.random.default_rng(seed)
    signal = retina_vessels()
    top = float(np.percentile(signal, 85.0))

    def pair(s: np.ndarray) -> Pair:
        noisy = _poisson_gaussian(s / top, 40.0, 1.0, 1.0, rng)
        return _c(_u8(255.0 * noisy / 40.0)), _c(_u16(500.0 + 20000.0 * s))

    train, test = _split(signal, (192, 256))
    task = Task("sat_input", "retina vessels, input uint8 with about a quarter at 255, "
                "target uint16", 2, (64, 64), [pair(s) for s in train], [pair(s) for s in test])
    clipped = np.mean([np.mean(x == 255) for x, _ in task.train])
    task.notes.append(f"sat_input: {100 * clipped:.0f}% of input pixels are 255")
    return task


def label_free_3d(seed: int = 9) -> Task:
    """Label-free-like 3D with one training volume: a transmitted-light-like stack (bright
    background, weak absorption by the stained tissue, defocused in z and xy, noisy,
    uint16) to the hematoxylin (DNA-like) stack of the same planes, one training half-volume
    and one test volume from another part of the field."""
    rng = np.random.default_rng(seed)
    step, depth = 4, 16
    grey, h = ihc_signal(), ihc_hematoxylin()

    def pair(top: int, left: int, shape: tuple[int, int]) -> Pair:
        absorb = _fine_stack(grey, top, left, depth * step, shape)
        nuclei = _fine_stack(h, top, left, depth * step, shape)
        light = filters.gaussian(absorb, sigma=(step, 1.5, 1.5), mode="nearest")[::step]
        transmitted = rng.poisson(400.0 * (1.0 - 0.5 * light)).astype(np.float64)
        return _c(_u16(20.0 * transmitted)), _c(_u16(200.0 + 20000.0 * nuclei[::step]))

    task = Task("labelfree_3d", "3D transmitted-light-like to hematoxylin, one training "
                "volume, uint16", 3, (8, 48, 48), [pair(0, 0, (160, 256))],
                [pair(300, 0, (128, 128)), pair(300, 200, (128, 128))])
    task.notes.append("labelfree_3d: one training volume (16x160x256); no validation images "
                      "unless the split takes a region")
    return task


TASKS: dict[str, Callable[[], Task]] = {
    "denoise_pg": denoise_poisson_gaussian,
    "gain_offset": denoise_gain_offset,
    "deblur": deblur,
    "sparse": sparse,
    "rgb_to_h": rgb_to_hematoxylin,
    "aniso_3d": anisotropic_3d,
    "saturated": saturated,
    "scarce_c2c": scarce_channels,
    "sat_input": saturated_input,
    "labelfree_3d": label_free_3d,
}


def write_task(task: Task, root: Path) -> dict[str, Path]:
    """Write ``root/{train,test}/{x,y}/NNNN.tif`` and return the four folders."""
    folders = {}
    for split, pairs in (("train", task.train), ("test", task.test)):
        for i, (x, y) in enumerate(pairs):
            write_image(root / split / "x" / f"{split}-{i:04d}.tif", x, task.ndim)
            write_image(root / split / "y" / f"{split}-{i:04d}.tif", y, task.ndim)
        folders[f"{split}_x"], folders[f"{split}_y"] = root / split / "x", root / split / "y"
    return folders
