"""Tests of pair discovery, checks and loading."""

import warnings

import numpy as np
import pytest
import tifffile

from i2i_nb.data.pairs import Pair, check_pairs, find_pairs, list_images, load_pairs
from i2i_nb.errors import DataError


def _img(path, shape=(16, 16), dtype=np.uint8, value=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.random.default_rng(len(str(path))).random(shape) * 100
    if value is not None:
        data[...] = value
    tifffile.imwrite(path, data.astype(dtype), photometric="minisblack")
    return path


def _listing(folder):
    return sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*"))


@pytest.fixture
def folders(tmp_path):
    x_dir, y_dir = tmp_path / "x", tmp_path / "y"
    for name in ["b.tif", "a.tif", "c.TIFF"]:
        _img(x_dir / name)
        _img(y_dir / name, dtype=np.float32)
    return x_dir, y_dir


def test_list_images_sorted_and_filtered(folders):
    x_dir, _ = folders
    (x_dir / ".hidden.tif").write_bytes(b"")
    (x_dir / "notes.txt").write_text("hi")
    (x_dir / "sub").mkdir()
    with pytest.warns(UserWarning, match="notes.txt") as record:
        images = list_images(x_dir)
    assert len(record) == 1
    assert [p.name for p in images] == ["a.tif", "b.tif", "c.TIFF"]


def test_list_images_errors(tmp_path):
    with pytest.raises(DataError, match="missing.*does not exist"):
        list_images(tmp_path / "missing")
    with pytest.raises(DataError, match="f.tif.*not a folder"):
        list_images(_img(tmp_path / "f.tif"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no TIFF images in .*empty"):
        list_images(tmp_path / "empty")


def test_find_pairs_by_sorted_name(folders):
    x_dir, y_dir = folders
    pairs = find_pairs(x_dir, y_dir)
    assert [(p.inputs[0].name, p.target.name) for p in pairs] == [
        ("a.tif", "a.tif"), ("b.tif", "b.tif"), ("c.TIFF", "c.TIFF")]
    assert all(p.target is None for p in find_pairs(x_dir, None))


def test_find_pairs_count_mismatch(folders):
    x_dir, y_dir = folders
    _img(x_dir / "d.tif")
    with pytest.raises(DataError, match=r"x has 4 images but .*y has 3.*d\.tif"):
        find_pairs(x_dir, y_dir)


def test_find_pairs_multiple_raw(tmp_path):
    for sample in ["s1", "s2"]:
        for raw in ["r1.tif", "r2.tif"]:
            _img(tmp_path / "x" / sample / raw)
        _img(tmp_path / "y" / f"{sample}.tif")
    pairs = find_pairs(tmp_path / "x", tmp_path / "y", multiple_raw=True)
    assert [(len(p.inputs), p.target.name) for p in pairs] == [(2, "s1.tif"), (2, "s2.tif")]
    loaded = load_pairs(pairs, 2)
    assert len(loaded) == 4 and loaded[0][1] is loaded[1][1]


def test_find_pairs_multiple_raw_errors(tmp_path):
    _img(tmp_path / "x" / "s1" / "r.tif")
    _img(tmp_path / "y" / "s1.tif")
    _img(tmp_path / "y" / "s9.tif")
    with pytest.raises(DataError, match="s9.tif: no sample sub-folder"):
        find_pairs(tmp_path / "x", tmp_path / "y", multiple_raw=True)
    (tmp_path / "x" / "s9").mkdir()
    with pytest.raises(DataError, match="no TIFF images in .*s9"):
        find_pairs(tmp_path / "x", tmp_path / "y", multiple_raw=True)


def test_check_pairs_summary_and_no_writes(folders):
    x_dir, y_dir = folders
    before = _listing(x_dir.parent)
    rows = check_pairs(find_pairs(x_dir, y_dir), 2)
    assert _listing(x_dir.parent) == before
    assert rows[0]["input"] == "a.tif" and rows[0]["shape"] == (16, 16)
    assert rows[0]["in_dtype"] == "uint8" and rows[0]["out_dtype"] == "float32"
    assert rows[0]["in_channels"] == rows[0]["out_channels"] == 1
    low, high = rows[0]["in_range"]
    assert 0 <= low <= high <= 100


def test_check_pairs_collects_all_problems(tmp_path):
    x, y = tmp_path / "x", tmp_path / "y"
    pairs = [
        Pair((_img(x / "ok.tif"),), _img(y / "ok.tif")),
        Pair((_img(x / "small.tif", (8, 8)),), _img(y / "big.tif", (16, 16))),
        Pair((_img(x / "nan.tif", dtype=np.float32, value=np.nan),), _img(y / "t.tif")),
        Pair((_img(x / "rgb.tif", (16, 16, 3)),), _img(y / "u.tif")),
        Pair((_img(x / "other.tif"),), _img(y / "stack.tif", (40, 16, 20))),
    ]
    (x / "broken.tif").write_bytes(b"II*\x00garbage")
    pairs.append(Pair((x / "broken.tif",), _img(y / "v.tif")))
    with pytest.raises(DataError) as info:
        check_pairs(pairs, 2)
    lines = str(info.value).splitlines()
    assert lines[0].startswith("5 problem(s)")
    text = str(info.value)
    assert "small.tif has spatial shape (8, 8) but its target " in text
    assert "big.tif has (16, 16)" in text
    assert "nan.tif: contains 256 NaN" in text
    assert "rgb.tif: has 3 channel(s) but most inputs have 1" in text
    assert "stack.tif" in text and "3D stack" in text
    assert "broken.tif" in text


def test_check_pairs_constant_warns(tmp_path):
    pair = Pair((_img(tmp_path / "x" / "a.tif", value=3),), _img(tmp_path / "y" / "a.tif"))
    with pytest.warns(UserWarning, match="constant.*a.tif"):
        check_pairs([pair], 2)


def test_different_channel_counts_between_input_and_target_allowed(tmp_path):
    pair = Pair((_img(tmp_path / "x.tif", (16, 16, 2)),), _img(tmp_path / "y.tif", (16, 16)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = check_pairs([pair], 2)
    assert (rows[0]["in_channels"], rows[0]["out_channels"]) == (2, 1)
    (x, y), = load_pairs([pair], 2)
    assert x.shape == (16, 16, 2) and y.shape == (16, 16, 1) and x.dtype == np.uint8
