"""Safe extraction of uploaded zip archives."""

import io
import stat
import zipfile

import pytest

from i2i_nb.errors import DataError
from i2i_nb.notebook.safe_zip import extract_zip


def _zip(entries, compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for entry, data in entries:
            archive.writestr(entry, data)
    return buffer.getvalue()


def _symlink(name, target):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def test_extracts_a_tree(tmp_path):
    data = _zip([("train/x/a.tif", b"1"), ("train/y/a.tif", b"2"), ("__MACOSX/._a.tif", b"")])
    written = extract_zip(data, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "train/x/a.tif", "train/y/a.tif"]
    assert (tmp_path / "out" / "train" / "y" / "a.tif").read_bytes() == b"2"
    assert not (tmp_path / "out" / "__MACOSX").exists()


def test_reads_a_path(tmp_path):
    path = tmp_path / "data.zip"
    path.write_bytes(_zip([("a.txt", b"x")]))
    assert [p.name for p in extract_zip(path, tmp_path / "out")] == ["a.txt"]


@pytest.mark.parametrize("entry, reason", [
    ("../evil.txt", "'..' in the path"),
    ("x/../../evil.txt", "'..' in the path"),
    ("/etc/evil.txt", "absolute path"),
    ("C:/evil.txt", "absolute path"),
    ("..\\evil.txt", "'..' in the path"),
])
def test_refuses_paths_leaving_the_folder(tmp_path, entry, reason):
    data = _zip([("ok.txt", b"fine"), (entry, b"evil")])
    with pytest.raises(DataError) as err:
        extract_zip(data, tmp_path / "out")
    assert f"{entry}: {reason}" in str(err.value)
    assert not (tmp_path / "out" / "ok.txt").exists()  # nothing extracted
    assert not list(tmp_path.rglob("evil.txt"))


def test_refuses_symlinks_and_names_each_refused_entry(tmp_path):
    data = _zip([_symlink("link", "/etc/passwd"), ("../a", b""), ("ok.txt", b"")])
    with pytest.raises(DataError) as err:
        extract_zip(data, tmp_path / "out")
    assert "link: symbolic link" in str(err.value)
    assert "../a: '..' in the path" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_refuses_a_zip_bomb(tmp_path):
    data = _zip([("bomb.bin", bytes(5_000_000))], zipfile.ZIP_DEFLATED)
    assert len(data) < 20_000
    with pytest.raises(DataError, match="5000000 bytes uncompressed, more than the limit"):
        extract_zip(data, tmp_path / "out", max_bytes=1_000_000)
    assert not (tmp_path / "out").exists()


def test_a_lying_size_header_cannot_write_past_the_limit(tmp_path):
    data = bytearray(_zip([("big.bin", bytes(100_000))], zipfile.ZIP_DEFLATED))
    small = (1000).to_bytes(4, "little")  # uncompressed size in both headers
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    data[local + 22: local + 26] = small
    data[central + 24: central + 28] = small
    with pytest.raises(DataError, match="big.bin"):
        extract_zip(bytes(data), tmp_path / "out", max_bytes=10_000)
    assert not (tmp_path / "out" / "big.bin").exists()  # the partial file is removed


def test_refuses_too_many_files(tmp_path):
    data = _zip([(f"f{i}.txt", b"") for i in range(5)])
    with pytest.raises(DataError, match="5 files, more than the limit of 4"):
        extract_zip(data, tmp_path / "out", max_files=4)


def test_not_a_zip(tmp_path):
    with pytest.raises(DataError, match="not a zip archive"):
        extract_zip(b"hello", tmp_path / "out")
