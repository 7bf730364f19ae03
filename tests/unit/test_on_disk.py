"""Images left on disk: memory-mapped reading, block-wise statistics, atomic memmap writing."""

import pickle

import numpy as np
import pytest
import tifffile

from i2i_nb.data import normalize
from i2i_nb.data.io import DiskImage, image_on_disk, read_image, slabs, write_image
from i2i_nb.data.normalize import DatasetScaler, input_affine, normalize_input
from i2i_nb.data.pairs import inspect_image
from i2i_nb.metrics import image_metrics, mae, psnr, ssim
from i2i_nb.resources import available_memory


@pytest.fixture
def stack(tmp_path):
    """A 3D two-channel uint16 stack, stored ZCYX, uncompressed and compressed."""
    data = np.random.default_rng(0).integers(0, 4000, (6, 2, 30, 40)).astype(np.uint16)
    plain, packed = tmp_path / "plain.tif", tmp_path / "packed.tif"
    tifffile.imwrite(plain, data, imagej=True, metadata={"axes": "ZCYX"})
    tifffile.imwrite(packed, data, compression="zlib", metadata={"axes": "ZCYX"})
    return plain, packed


def test_memmap_reading_equals_reading_and_is_read_only(stack):
    plain, packed = stack
    whole = read_image(plain, 3)
    for path in (plain, packed):
        mapped = read_image(path, 3, memmap=True)
        assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
        np.testing.assert_array_equal(mapped, whole)
    assert read_image(plain, 3, memmap=True).filename == str(plain)  # the file itself


def test_disk_image_pickles_its_path_not_its_data(stack):
    image = DiskImage(stack[0], 3)
    blob = pickle.dumps(image)
    assert len(blob) < 500
    np.testing.assert_array_equal(pickle.loads(blob)[2:4, 5:9], read_image(stack[0], 3)[2:4, 5:9])


def test_slabs_cover_the_image_in_bounded_blocks(stack):
    image = read_image(stack[0], 3, memmap=True)
    plane = image[:1].nbytes
    blocks = list(slabs(image, max_bytes=2 * plane))
    assert [len(b) for b in blocks] == [2, 2, 2]
    np.testing.assert_array_equal(np.concatenate(blocks), image)
    assert [len(b) for b in slabs(image, max_bytes=5 * plane, multiple=2)] == [4, 2]


def test_inspect_reads_by_blocks_and_counts_nan(tmp_path):
    data = np.random.default_rng(1).random((70, 20, 30)).astype(np.float32)
    data[3, 4, 5] = np.nan
    data[60, 1, 1] = np.inf
    tifffile.imwrite(tmp_path / "f.tif", data)
    _, info = inspect_image(tmp_path / "f.tif", 3)
    finite = data[np.isfinite(data)]
    assert info.nonfinite == 2 and info.min == finite.min() and info.max == finite.max()


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("ndim", [2, 3])
def test_image_on_disk_writes_what_write_image_writes(tmp_path, ndim, channels):
    shape = (*(5,) * (ndim == 3), 30, 40, channels)
    data = np.random.default_rng(2).random(shape).astype(np.float32)
    with image_on_disk(tmp_path / "a.tif", shape, np.float32, ndim) as out:
        assert not (tmp_path / "a.tif").exists()  # a temporary name until done
        out[...] = data
    write_image(tmp_path / "b.tif", data, ndim)
    np.testing.assert_array_equal(read_image(tmp_path / "a.tif", ndim), data)
    assert tifffile.TiffFile(tmp_path / "a.tif").series[0].axes == \
        tifffile.TiffFile(tmp_path / "b.tif").series[0].axes


def test_image_on_disk_leaves_nothing_when_interrupted(tmp_path):
    with pytest.raises(KeyboardInterrupt), image_on_disk(tmp_path / "a.tif", (8, 8, 1),
                                                         np.float32, 2):
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_statistics_from_a_subsample_of_a_memory_map(stack, monkeypatch):
    image = read_image(stack[0], 3, memmap=True)
    exact = input_affine(np.asarray(image), "percentile")
    sampled = input_affine(image, "percentile", take=5_000)
    np.testing.assert_allclose(sampled.offset, exact.offset, rtol=0.05, atol=20)
    np.testing.assert_allclose(sampled.scale, exact.scale, rtol=0.05)
    monkeypatch.setattr(normalize, "MAX_SAMPLES", 5_000)
    assert DatasetScaler.fit([image], "percentile") == DatasetScaler.fit([DiskImage(stack[1], 3)],
                                                                         "percentile")


def test_affine_of_a_crop_is_the_crop_of_the_normalised_image(stack):
    image = read_image(stack[0], 3)
    for method in ("percentile", "zero_mean_unit_variance", "scale_range", "div"):
        affine = input_affine(image, method, clip=(1, 99))
        np.testing.assert_array_equal(affine(image[1:3, 5:20]), affine(image)[1:3, 5:20])
    np.testing.assert_allclose(input_affine(image, "percentile")(image),
                               normalize_input(image, "percentile"))


@pytest.mark.parametrize("shape", [(20, 30, 40, 2), (9, 5, 7, 1), (50, 41, 1), (40, 3, 1)])
@pytest.mark.parametrize("max_bytes", [1, 30_000, 1 << 30])
def test_metrics_by_blocks_match_whole_image_metrics(shape, max_bytes):
    """Block by block (blocks of one plane up to the whole image), the same PSNR, MAE and
    SSIM: each SSIM block is read with its window's neighbours."""
    rng = np.random.default_rng(3)
    gt = rng.random(shape) * 100
    pred = gt + rng.normal(0, 20, gt.shape)
    blocks = image_metrics(pred, gt, max_bytes=max_bytes)
    whole = {"psnr": psnr(pred, gt), "ssim": ssim(pred, gt, len(shape) - 1), "mae": mae(pred, gt)}
    for key in ("psnr", "ssim", "mae"):
        assert blocks[key] == pytest.approx(whole[key], rel=1e-12, abs=1e-14)


def test_available_memory_is_positive_and_bounded():
    meminfo = dict(line.split(":") for line in open("/proc/meminfo").read().splitlines())
    total = int(meminfo["MemTotal"].split()[0]) * 1024
    assert 0 < available_memory() <= total
