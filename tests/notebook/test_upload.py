"""Upload values of ipywidgets 7 and 8, and the data sources."""

import io
import zipfile

import ipywidgets
import numpy as np
import pytest
import tifffile
import torch

from i2i_nb.config import config_from_dict
from i2i_nb.errors import ConfigError, DataError
from i2i_nb.experiment import run
from i2i_nb.notebook import predict_step
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


def _upload(widget, name, content, *more):
    """What the browser sends when files are uploaded, for the installed ipywidgets."""
    files = [(name, content), *zip(more[::2], more[1::2], strict=True)]
    if ipywidgets.__version__.startswith("7."):
        widget.metadata = [{"name": n, "type": "application/octet-stream", "size": len(c),
                            "lastModified": 0} for n, c in files]
        widget.data = [c for _, c in files]
        widget._counter += len(files)
    else:
        widget.set_state({"value": [{"name": n, "type": "application/octet-stream",
                                     "size": len(c), "content": memoryview(c),
                                     "last_modified": 0} for n, c in files]})


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


def test_predict_own_images_and_checkpoint_uploaded(demo_2d, cfg_2d, tmp_path):
    """A zip of images and a checkpoint sent through the section 8 button give the same
    predictions as the same checkpoint and folder given as paths."""
    cfg = config_from_dict({"TRAIN": {"EPOCHS": 1}, "TEST": {"ENABLE": False}}, cfg_2d)
    trained = run(cfg, tmp_path / "train", "t", 1, torch.device("cpu"))
    checkpoint = trained.paths.checkpoint("best")
    widget = predict_step.upload_widget()
    _upload(widget, "new.zip", _zip_of(demo_2d / "test" / "x"), "model.pth",
            checkpoint.read_bytes())
    sent = predict_step.predict_own("", "", trained, cfg, str(tmp_path / "out"), "nb", 1, "cpu",
                                    uploaded=widget.value)
    given = predict_step.predict_own(str(demo_2d / "test" / "x"), str(checkpoint), trained, cfg,
                                     str(tmp_path / "out"), "nb", 2, "cpu")
    names = sorted(p.name for p in (demo_2d / "test" / "x").iterdir())
    for result in (sent, given):
        assert sorted(p.name for p in result.paths.sub("per_image").iterdir()) == names
    for n in names:
        np.testing.assert_array_equal(tifffile.imread(sent.paths.sub("per_image") / n),
                                      tifffile.imread(given.paths.sub("per_image") / n))
    uploads = tmp_path / "out" / "nb_uploads"
    assert (uploads / "model.pth").is_file() and len(list((uploads / "images").iterdir())) == 2
    predict_step.show_own(sent, cfg, n=1)
    with pytest.raises(DataError, match="notes.txt: upload TIFF"):
        predict_step.receive_uploads({"notes.txt": {"content": b"x"}}, tmp_path / "bad")
