"""TRAIN.SAVE_TRAIN_PREDS_SHOW: the training previews shown inline in a notebook kernel,
once per preview epoch, and nowhere else."""

import IPython
import IPython.display
import pytest
import torch
from ipykernel.zmqshell import ZMQInteractiveShell

from i2i_nb.models import build_model
from i2i_nb.train_previews import TrainPreviews, inline_display


def _samples(ndim, channels=1):
    shape = (8, 16, 16) if ndim == 3 else (16, 16)
    torch.manual_seed(0)
    return [(torch.rand(channels, *shape), torch.rand(1, *shape)) for _ in range(2)]


@pytest.fixture
def shown(monkeypatch):
    """A fake Jupyter kernel whose display hook records what is displayed."""
    kernel = ZMQInteractiveShell.__new__(ZMQInteractiveShell)
    monkeypatch.setattr(IPython, "get_ipython", lambda: kernel)
    displayed = []
    monkeypatch.setattr(IPython.display, "display", displayed.append)
    return displayed


@pytest.mark.parametrize(("ndim", "channels"), [(2, 2), (3, 1)])
def test_previews_are_displayed_once_per_preview_epoch(shown, tmp_path, ndim, channels):
    model = build_model("unet", ndim, channels, 1, feature_maps=[4, 8]).eval()
    previews = TrainPreviews(model, _samples(ndim, channels), tmp_path, ndim, freq=2, count=2,
                             epochs=5, device=torch.device("cpu"), show=True)
    for epoch in range(1, 6):
        previews(epoch)
    assert len(shown) == 3  # epochs 2, 4 and the last, 5: as the files written
    assert sorted(p.name for p in tmp_path.glob("pred_epoch_*")) == [
        "pred_epoch_0002", "pred_epoch_0004", "pred_epoch_0005"]
    assert all(isinstance(s, IPython.display.Image) and s.data.startswith(b"\x89PNG")
               for s in shown)


def test_nothing_is_displayed_without_show(shown, tmp_path):
    model = build_model("unet", 2, 1, 1, feature_maps=[4, 8]).eval()
    previews = TrainPreviews(model, _samples(2), tmp_path, 2, 1, 1, 2, torch.device("cpu"))
    previews(1)
    previews(2)
    assert shown == []


@pytest.mark.parametrize("shell", [None, object()])  # a script; a terminal IPython
def test_outside_a_notebook_kernel_it_is_ignored_with_one_line(monkeypatch, tmp_path, capsys,
                                                               shell):
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    displayed = []
    monkeypatch.setattr(IPython.display, "display", displayed.append)
    assert inline_display() is None
    model = build_model("unet", 2, 1, 1, feature_maps=[4, 8]).eval()
    previews = TrainPreviews(model, _samples(2), tmp_path, 2, 1, 1, 2, torch.device("cpu"),
                             show=True)
    previews(1)
    previews(2)
    assert displayed == []
    assert capsys.readouterr().out.count("TRAIN.SAVE_TRAIN_PREDS_SHOW: ignored outside") == 1
    assert (tmp_path / "pred_epoch_0002" / "000.tif").is_file()
