"""The training call: live chart, Stop button, interrupt."""

import asyncio

import pytest

from i2i_nb.config import config_from_dict
from i2i_nb.notebook import training
from i2i_nb.notebook.live_plot import LivePlot, history_figure
from i2i_nb.notebook.stop_button import StopButton


def _record(epoch):
    return {"epoch": epoch, "loss": 1.0 / epoch, "val_loss": 1.2 / epoch,
            "val_psnr": 20.0 + epoch, "lr": 1e-3, "seconds": 0.5}


def test_history_figure():
    fig = history_figure([_record(1), _record(2)], epochs=10)
    loss, psnr = fig.axes
    assert [line.get_label() for line in loss.get_lines()] == ["loss", "val loss"]
    assert list(psnr.get_lines()[0].get_ydata()) == [21.0, 22.0]
    assert "epoch 2/10" in fig._suptitle.get_text()
    assert history_figure([], epochs=3).axes


def test_live_plot_updates_one_display(monkeypatch):
    updates = []

    class Handle:
        def update(self, obj):
            updates.append(obj)

    monkeypatch.setattr("i2i_nb.notebook.live_plot.display", lambda obj, display_id: Handle())
    monkeypatch.setattr("i2i_nb.notebook.live_plot.get_ipython", lambda: object())
    plot = LivePlot(5, [_record(1)])
    plot.update(_record(2))
    plot.update(_record(3))
    assert [r["epoch"] for r in plot.history] == [1, 2, 3]
    assert len(updates) == 2 and updates[-1].data.startswith(b"\x89PNG")


def test_stop_button():
    stop = StopButton()
    assert not stop.requested()
    stop.button.click()
    assert stop.requested() and stop.button.disabled
    assert stop.button.description == "Stopping after this epoch..."
    stop.finish(4)
    assert stop.button.description == "Stopped after epoch 4" and stop.button.disabled
    done = StopButton()
    done.finish(10)
    assert done.button.description == "Training ended after epoch 10"


def test_the_chart_waits_with_a_note_not_empty_axes(monkeypatch):
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(obj)

    def display(obj, display_id):
        shown.append(obj)
        return Handle()

    monkeypatch.setattr("i2i_nb.notebook.live_plot.display", display)
    monkeypatch.setattr("i2i_nb.notebook.live_plot.get_ipython", lambda: object())
    plot = LivePlot(7)
    assert "epoch 1 of 7" in shown[0].data
    plot.update(_record(1))
    assert shown[1].data.startswith(b"\x89PNG")
    LivePlot(7, [_record(1)])  # resumed: the chart at once
    assert shown[2].data.startswith(b"\x89PNG")


def test_stop_summary_names_the_epochs():
    history = [_record(1), _record(2), {**_record(3), "val_loss": 5.0}]
    assert training.stop_summary(history, 10, stopped=True) == (
        "Training stopped on request after epoch 3 of 10; the best checkpoint (epoch 2, "
        "val loss 0.6) is the one tested.")
    assert "finished after epoch 3 of 3" in training.stop_summary(history, 3, stopped=False)
    assert "TRAIN.PATIENCE" in training.stop_summary(history, 10, stopped=False)


@pytest.fixture
def cfg(cfg_2d):
    return config_from_dict({"TRAIN": {"EPOCHS": 30, "PATIENCE": 0}}, base=cfg_2d)


def test_stop_button_ends_training_after_the_epoch(cfg, tmp_path, monkeypatch, capsys):
    buttons = []
    monkeypatch.setattr(StopButton, "requested", lambda self: True)
    monkeypatch.setattr(StopButton, "show", lambda self: buttons.append(self))
    result = asyncio.run(training.train(cfg, tmp_path, "stop", device="cpu", interactive=True))
    assert [row["epoch"] for row in result.history] == [1]
    assert len(result.test_rows) == 2  # the best checkpoint is still tested
    assert buttons[0].button.description == "Stopped after epoch 1"
    assert "stopped on request after epoch 1 of 30" in capsys.readouterr().out


def test_no_stop_button_without_a_front_end(cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(StopButton, "show", pytest.fail)
    cfg = config_from_dict({"TRAIN": {"EPOCHS": 1}}, base=cfg)
    asyncio.run(training.train(cfg, tmp_path, "headless", device="cpu"))


def test_interrupt_stops_after_the_epoch_and_says_how_to_resume(cfg, tmp_path, capsys):
    last = tmp_path / "interrupt" / "checkpoints" / "interrupt_1-checkpoint-last.pth"

    async def interrupted():
        task = asyncio.ensure_future(training.train(cfg, tmp_path, "interrupt", device="cpu"))
        while not last.exists():
            await asyncio.sleep(0.05)
        task.cancel()  # what an interrupt does to an awaiting cell
        return await task

    result = asyncio.run(interrupted())
    assert 1 <= len(result.history) < 5
    assert len(result.test_rows) == 2
    out = capsys.readouterr().out
    assert "Interrupted" in out and "resume = True" in out and str(last.parent) in out
    resumed = asyncio.run(training.train(
        config_from_dict({"TRAIN": {"EPOCHS": len(result.history) + 1}}, base=cfg),
        tmp_path, "interrupt", device="cpu", resume=True))
    assert [row["epoch"] for row in resumed.history][-1] == len(result.history) + 1


def test_errors_reach_the_cell(cfg, tmp_path):
    bad = config_from_dict({"DATA": {"TRAIN": {"PATH": str(tmp_path / "none")}}}, base=cfg)
    with pytest.raises(Exception, match="does not exist"):
        asyncio.run(training.train(bad, tmp_path / "r", "bad", device="cpu"))


def test_ui_poll_uses_jupyter_ui_poll_only_on_kernels_that_need_it(monkeypatch):
    import contextlib
    import sys
    import types

    from i2i_nb.notebook import stop_button

    polled = []

    @contextlib.asynccontextmanager
    async def ui_events():
        async def poll(n):
            polled.append(n)

        yield poll

    monkeypatch.setitem(sys.modules, "jupyter_ui_poll", types.SimpleNamespace(ui_events=ui_events))

    async def poll_once():
        async with stop_button.ui_poll() as handle_ui:
            await handle_ui()

    shell = types.SimpleNamespace(kernel=object())  # ipykernel 7: no do_one_iteration
    monkeypatch.setattr(stop_button, "get_ipython", lambda: shell)
    asyncio.run(poll_once())
    assert polled == []
    shell.kernel = types.SimpleNamespace(do_one_iteration=None)  # ipykernel 6 and older
    asyncio.run(poll_once())
    assert polled == [10]
