"""Upload values of ipywidgets 7 and 8, and the data sources."""

import io
import zipfile

import ipywidgets
import pytest

from i2i_nb.errors import ConfigError, DataError
from i2i_nb.notebook.data_step import (
    prepare_data,
    upload_widget,
    uploaded_files,
    uploaded_zip,
)


def test_ipywidgets_8_value():
    value = ({"name": "a.zip", "type": "application/zip", "size": 3,
              "content": memoryview(b"abc"), "last_modified": None},
             {"name": "b.zip", "type": "", "size": 1, "content": b"d", "last_modified": None})
    assert uploaded_files(value) == [("a.zip", b"abc"), ("b.zip", b"d")]
    assert uploaded_files(()) == []


def test_ipywidgets_7_value():
    value = {"a.zip": {"metadata": {"name": "a.zip", "type": "application/zip", "size": 3,
                                    "lastModified": 0}, "content": b"abc"},
             "b.zip": {"metadata": {"name": "b.zip"}, "content": memoryview(b"d")}}
    assert uploaded_files(value) == [("a.zip", b"abc"), ("b.zip", b"d")]
    assert uploaded_files({}) == []


def _upload(widget, name, content):
    """What the browser sends when a file is uploaded, for the installed ipywidgets."""
    if ipywidgets.__version__.startswith("7."):
        widget.metadata = [{"name": name, "type": "application/zip", "size": len(content),
                            "lastModified": 0}]
        widget.data = [content]
        widget._counter += 1
    else:
        widget.set_state({"value": [{"name": name, "type": "application/zip",
                                     "size": len(content), "content": memoryview(content),
                                     "last_modified": 0}]})


def test_upload_widget_of_the_installed_ipywidgets():
    widget = upload_widget()
    assert uploaded_zip(widget) is None
    _upload(widget, "data.zip", b"PK\x03\x04")
    assert uploaded_files(widget.value) == [("data.zip", b"PK\x03\x04")]
    assert uploaded_zip(widget) == b"PK\x03\x04"


def _zip_of(folder, prefix=""):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*.tif")):
            archive.write(path, prefix + path.relative_to(folder).as_posix())
    return buffer.getvalue()


@pytest.mark.parametrize("prefix", ["", "my_data/"])
def test_prepare_zip_finds_the_data_root(demo_2d, tmp_path, prefix):
    root = prepare_data("zip", tmp_path / "data", 2, _zip_of(demo_2d, prefix))
    assert root == tmp_path / "data" / prefix.rstrip("/")
    assert sorted(p.name for p in (root / "train" / "x").iterdir())[0] == "train-0000.tif"


def test_prepare_demo_and_folder(tmp_path):
    root = prepare_data("demo", tmp_path / "demo", 3)
    assert len(list((root / "test" / "y").glob("*.tif"))) == 2
    assert prepare_data("folder", root, 3) == root


def test_prepare_problems(tmp_path):
    with pytest.raises(DataError, match="no archive was uploaded"):
        prepare_data("zip", tmp_path, 2, None)
    with pytest.raises(DataError, match="folder does not exist"):
        prepare_data("folder", tmp_path / "missing", 2)
    with pytest.raises(ConfigError, match="data_source: 'web'"):
        prepare_data("web", tmp_path, 2)
