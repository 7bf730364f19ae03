"""Property-based tests (Hypothesis) of the three parsers of untrusted input: the config,
the pairing of file names, and the extraction of an uploaded zip archive.

Each test's docstring states the invariant it checks on every generated example. The
example counts are kept small (100 per property) so that the suite stays fast; set
``HYPOTHESIS_PROFILE=thorough`` for 2000.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
import warnings
import zipfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from i2i_nb.config import Config, config_from_dict, load_config, to_plain
from i2i_nb.data.pairs import find_pairs
from i2i_nb.errors import ConfigError, DataError
from i2i_nb.notebook.safe_zip import extract_zip

EXAMPLES = 2000 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 100
checked = settings(max_examples=EXAMPLES, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

KNOWN = sorted({f"{section}.{key}" for section, keys in to_plain(Config()).items()
                for key in keys} | {"TRAIN.EPOCHS", "DATA.PATCH_SIZE", "MODEL.FEATURE_MAPS",
                                    "DATA.TRAIN.PATH", "TRAIN.LR_SCHEDULER.NAME",
                                    "DATA.NORMALIZATION.PERC_CLIP.LOWER_PERC"})

# ---------------------------------------------------------------- config -------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False),  # runs flush them
    st.text(max_size=12),
    st.sampled_from(["(64, 64, 1)", "[8, 16]", "1e999", "-1", "True", "none", "(", "()",
                     "((1,),)", "adamw", "3D", "unet", "percentile", "0x10", "[[]]"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)


@st.composite
def config_trees(draw: st.DrawFn) -> dict:
    """Nested dicts of real BiaPy keys (and some unknown ones) with any YAML-like values."""
    tree: dict = {}
    for key in draw(st.lists(st.one_of(st.sampled_from(KNOWN), st.text(max_size=8)),
                             max_size=6)):
        node, *parents, leaf = [tree, *key.split(".")]
        for part in parents:
            child = node.get(part)
            node = node.setdefault(part, {}) if isinstance(child, dict | type(None)) else {}
        node[leaf] = draw(values)
    return tree


def _quiet(function, *args):  # noqa: ANN001, ANN002, ANN202 - a test helper
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args)


@checked
@given(config_trees())
def test_config_from_any_tree_is_a_valid_config_or_a_config_error(tree):
    """Invariant: ``config_from_dict`` on any nested dict either raises ConfigError (never
    another exception) or returns a Config that is valid and survives a YAML round trip
    unchanged (``load(save(cfg)) == cfg``)."""
    try:
        cfg = _quiet(config_from_dict, tree)
    except ConfigError:
        return
    assert isinstance(cfg, Config)
    again = _quiet(config_from_dict, yaml.safe_load(yaml.safe_dump(to_plain(cfg))))
    assert again == cfg


@checked
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                 config_trees().map(lambda t: yaml.safe_dump(t).encode())))
def test_load_config_of_any_file_content_is_a_config_or_a_config_error(content):
    """Invariant: ``load_config`` on any bytes (garbage, any text, any YAML mapping) either
    raises ConfigError naming the file or returns a Config; never a raw exception."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_bytes(content)
        try:
            assert isinstance(_quiet(load_config, path), Config)
        except ConfigError as err:
            assert str(path) in str(err) or "." in str(err).split(":")[0]


# ---------------------------------------------------------------- pairing ------------------

stems = st.one_of(
    st.sampled_from(["img", "img_1", "img_01", "img_10", "img_2", "gt_1", "gt_01", "gt_10",
                     "a", "A", "b", "raw 3", "x.y", "0", "1", "10", "2"]),
    st.text(st.characters(codec="utf-8", exclude_characters="/\\\0"), min_size=1, max_size=6)
    .filter(lambda s: not s.startswith(".") and s.strip() == s and len(s.encode()) < 60))
image_names = st.tuples(stems, st.sampled_from([".tif", ".tiff", ".TIF"])).map("".join)


@checked
@given(st.lists(image_names, min_size=1, max_size=6, unique=True),
       st.lists(image_names, min_size=1, max_size=6, unique=True))
def test_pairing_uses_every_file_once_and_never_pairs_wrong_names(x_names, y_names):
    """Invariants of ``find_pairs`` on any two folders of image names: it raises DataError
    or returns pairs that use every input and every target exactly once; when any file
    stem occurs in both folders every pair shares its stem; otherwise the pairs follow
    sorted name order. Never a raw exception."""
    with tempfile.TemporaryDirectory() as folder:
        x_dir, y_dir = Path(folder) / "x", Path(folder) / "y"
        for directory, names in ((x_dir, x_names), (y_dir, y_names)):
            directory.mkdir()
            for name in names:
                (directory / name).write_bytes(b"")
        try:
            pairs = _quiet(find_pairs, x_dir, y_dir)
        except DataError:
            return
    xs = [p.inputs[0].name for p in pairs]
    ys = [p.target.name for p in pairs]
    assert sorted(xs) == sorted(x_names) and sorted(ys) == sorted(y_names)
    assert all(len(p.inputs) == 1 for p in pairs)
    shared = {Path(n).stem for n in x_names} & {Path(n).stem for n in y_names}
    if shared:
        assert all(Path(x).stem == Path(y).stem for x, y in zip(xs, ys, strict=True))
    else:
        assert xs == sorted(xs) and ys == sorted(ys)


# ---------------------------------------------------------------- zip extraction -----------

parts = st.one_of(st.sampled_from(["..", ".", "", "data", "train", "x", "a.tif", "C:",
                                   "__MACOSX", "~", " ", "con"]),
                  st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=8))
entry_names = st.builds(lambda lead, ps, sep: lead + sep.join(ps),
                        st.sampled_from(["", "/", "\\", "C:\\", "C:/", "./"]),
                        st.lists(parts, min_size=1, max_size=4), st.sampled_from(["/", "\\"]))
entries = st.lists(st.tuples(entry_names, st.binary(max_size=64),
                             st.sampled_from(["file", "dir", "symlink"])),
                   min_size=1, max_size=6)


def _archive(items: list[tuple[str, bytes, str]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content, kind in items:
                info = zipfile.ZipInfo(name.rstrip("/") + "/" if kind == "dir" else name)
                if kind == "symlink":
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                archive.writestr(info, b"" if kind == "dir" else content)
    return buffer.getvalue()


def _everything(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*")} | {str(p) for p in root.glob(".*")}


@checked
@given(entries)
def test_zip_extraction_never_writes_outside_its_folder(items):
    """Invariants of ``extract_zip`` on archives with any entry names (absolute, ``..``,
    backslashes, drive letters, links, duplicates, a file where a folder must go):
    it raises DataError or returns the files it wrote; nothing is ever created or changed
    outside the chosen folder; every returned path lies inside it and holds the bytes of
    the archive entry of that name; a refused archive leaves no file behind. Never a raw
    exception."""
    with tempfile.TemporaryDirectory() as base:
        base = Path(base)
        outside = base / "outside.txt"
        outside.write_text("untouched")
        folder = base / "dataset"
        folder.mkdir()
        before = _everything(base) - _everything(folder)
        try:
            written = extract_zip(_archive(items), folder)
        except DataError:
            written = None
        assert _everything(base) - _everything(folder) == before
        assert outside.read_text() == "untouched"
        if written is None:
            assert not [p for p in folder.rglob("*") if p.is_file()]
            return
        resolved = folder.resolve()
        contents = {}
        for name, content, kind in items:
            if kind == "file":
                contents[(resolved / name.replace("\\", "/")).resolve()] = content
        for path in written:
            assert path.resolve().is_relative_to(resolved)
            assert path.read_bytes() == contents[path.resolve()]


@pytest.mark.parametrize("name", ["../evil.tif", "/etc/evil", "C:\\evil.tif", "a/../../evil"])
def test_zip_examples_that_must_be_refused(name, tmp_path):
    """Fixed examples of the property above (also the seed corpus for shrinking)."""
    with pytest.raises(DataError, match="was not extracted"):
        extract_zip(_archive([(name, b"x", "file")]), tmp_path / "d")
    assert not (tmp_path / "evil.tif").exists()
