"""Interactivity follows the front end: on in a live one, off under papermill/nbval."""

import types

import pytest

from i2i_nb.notebook import frontend


def _kernel_sending(monkeypatch, content):
    kernel = types.SimpleNamespace(get_parent=lambda: {"header": {}, "content": content})
    monkeypatch.setattr(frontend, "get_ipython", lambda: types.SimpleNamespace(kernel=kernel))


def test_plain_python_is_not_live():
    assert frontend.live_frontend() is False
    assert frontend.resolve_interactive(None) is False


@pytest.mark.parametrize("content, live", [
    ({"code": "1", "allow_stdin": True}, True),  # JupyterLab, Notebook, Colab, VS Code
    ({"code": "1", "allow_stdin": False}, False),  # nbclient (papermill, nbconvert), nbval
    ({"code": "1"}, False),
])
def test_live_when_the_request_allows_input(monkeypatch, content, live):
    _kernel_sending(monkeypatch, content)
    assert frontend.live_frontend() is live
    assert frontend.resolve_interactive(None) is live
    assert frontend.resolve_interactive(True) is True
    assert frontend.resolve_interactive(False) is False


def test_terminal_ipython_is_not_live(monkeypatch):
    monkeypatch.setattr(frontend, "get_ipython", lambda: types.SimpleNamespace())
    assert frontend.live_frontend() is False
