"""The set-up cell's installer and report."""

import sys
import types

import pytest

from i2i_nb.notebook import environment


def test_install_command_is_an_argument_list(tmp_path):
    constraints = tmp_path / "c.txt"
    command = environment.install_command("https://github.com/o/r", "v1.0", constraints)
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert "i2i-nb[colab] @ git+https://github.com/o/r@v1.0" in command
    assert command[-2:] == ["--constraint", str(constraints)]


@pytest.mark.parametrize("url, ref", [
    ("https://github.com/o/r; rm -rf /", "main"), ("file:///etc", "main"),
    ("https://github.com/o/r", "main --index-url x"), ("https://github.com/o/r", "../x"),
])
def test_install_command_refuses_odd_input(url, ref):
    with pytest.raises(ValueError):
        environment.install_command(url, ref, None)


def test_local_kernel_installs_nothing(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(environment.subprocess, "run", pytest.fail)
    info = environment.setup_environment("https://github.com/o/r", "main")
    assert set(info) == {"torch", "cuda", "gpu", "i2i_nb"}
    assert "i2i_nb: 0.1.0" in capsys.readouterr().out


def test_colab_installs_with_torch_pinned(monkeypatch):
    calls = []
    output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append("widgets"))
    colab = types.ModuleType("google.colab")
    colab.output = output
    if "google" not in sys.modules:
        monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)

    def fake_run(command, check):
        assert check and isinstance(command, list)
        pin = command[command.index("--constraint") + 1]
        with open(pin) as handle:
            calls.append(handle.read().strip())

    monkeypatch.setattr(environment.subprocess, "run", fake_run)
    environment.setup_environment("https://github.com/o/r", "main")
    import torch

    assert calls == [f"torch=={torch.__version__}", "widgets"]
