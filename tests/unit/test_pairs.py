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
    assert len(record) == 2  # the text file, and the sub-folder
    assert "ignoring 1 sub-folder(s)" in str(record[0].message)
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


def _named(folder, names):
    for name in names:
        _img(folder / name)


def test_find_pairs_by_stem_when_suffixes_sort_differently(tmp_path):
    _named(tmp_path / "x", ["a-1.tif", "a.tif"])
    _named(tmp_path / "y", ["a-1.tif", "a.tiff"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pairs = find_pairs(tmp_path / "x", tmp_path / "y")
    assert [(p.inputs[0].stem, p.target.stem) for p in pairs] == [("a-1", "a-1"), ("a", "a")]


def test_find_pairs_refuses_names_that_partly_match(tmp_path):
    _named(tmp_path / "x", ["a.tif", "b.tif"])
    _named(tmp_path / "y", ["b.tif", "c.tif"])
    with pytest.raises(DataError, match="share some names but not all") as info:
        find_pairs(tmp_path / "x", tmp_path / "y")
    assert "x/a.tif: no image named a.* in" in str(info.value)
    assert "y/c.tif: no image named c.* in" in str(info.value)


def test_find_pairs_refuses_duplicate_stems(tmp_path):
    _named(tmp_path / "x", ["a.tif", "a.tiff"])
    _named(tmp_path / "y", ["a.tif", "b.tif"])
    with pytest.raises(DataError, match=r"x/a: two images named a\.\*"):
        find_pairs(tmp_path / "x", tmp_path / "y")


def test_find_pairs_refuses_numbers_that_sort_apart(tmp_path):
    _named(tmp_path / "x", ["raw_1.tif", "raw_2.tif", "raw_10.tif"])
    _named(tmp_path / "y", ["gt_01.tif", "gt_02.tif", "gt_10.tif"])
    with pytest.raises(DataError, match="would pair raw_10.tif with gt_02.tif, raw_2.tif with "
                       "gt_10.tif, whose numbers differ"):
        find_pairs(tmp_path / "x", tmp_path / "y")


def test_find_pairs_without_common_names_warns_and_keeps_sorted_order(tmp_path):
    _named(tmp_path / "x", ["raw_01.tif", "raw_02.tif"])
    _named(tmp_path / "y", ["gt_01.tif", "gt_02.tif"])
    with pytest.warns(UserWarning, match="paired in sorted order.*raw_01.tif with gt_01.tif"):
        pairs = find_pairs(tmp_path / "x", tmp_path / "y")
    assert [(p.inputs[0].name, p.target.name) for p in pairs] == [
        ("raw_01.tif", "gt_01.tif"), ("raw_02.tif", "gt_02.tif")]


def test_check_pairs_refuses_values_beyond_float32(tmp_path):
    pair = Pair((_img(tmp_path / "x.tif", dtype=np.float64, value=1e300),),
                _img(tmp_path / "y.tif"))
    with pytest.raises(DataError, match="x.tif: values from 1e.300 to 1e.300 exceed the "
                       "float32 range"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # also constant
        check_pairs([pair], 2)


@pytest.mark.parametrize("dtype", [np.int32, np.uint32, np.float64, np.int64])
def test_check_pairs_accepts_wide_dtypes(tmp_path, dtype):
    data = np.arange(256).reshape(16, 16).astype(np.float64) + 4_000_000_000
    if dtype == np.int32:
        data -= 6_000_000_000
    x = tmp_path / "x.tif"
    tifffile.imwrite(x, data.astype(dtype))
    rows = check_pairs([Pair((x,), _img(tmp_path / "y.tif"))], 2)
    assert rows[0]["in_dtype"] == np.dtype(dtype).name
    assert rows[0]["in_range"] == (data.min(), data.max())
