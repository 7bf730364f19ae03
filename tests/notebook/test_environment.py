"""The set-up cell's installer and report."""

import sys
import types
from pathlib import Path

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


def _committed(notebook):
    import nbformat

    path = Path(__file__).resolve().parents[2] / "notebooks" / notebook
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("notebook", ["i2i_2d.ipynb", "i2i_3d.ipynb"])
def test_badge_branch_and_install_line_agree(notebook):
    """The Colab badge, the set-up cell's bootstrap and its installer name one address."""
    import re
    import tomllib

    repo, ref = environment.REPOSITORY, environment.BRANCH
    cells = [cell.source for cell in _committed(notebook).cells]
    badge = re.search(r"\(https://colab\.research\.google\.com/github/[^)]+\)", cells[0]).group(0)
    assert badge == f"({environment.colab_url(f'notebooks/{notebook}')})"
    assert badge == (f"(https://colab.research.google.com/github/"
                     f"{repo.removeprefix('https://github.com/')}/blob/{ref}/notebooks/{notebook})")
    bootstrap = next(s for s in cells if "pip install" in s)
    assert f'"git+{repo}@{ref}"' in bootstrap and "pip show -q i2i-nb" in bootstrap
    assert f'setup_environment("{repo}", "{ref}")' in next(
        s for s in cells if "setup_environment(" in s)
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text())["project"]
    assert project["name"] == environment.PACKAGE and "colab" in project["optional-dependencies"]
    assert environment.install_command(repo, ref, None)[-1] == (
        f"{project['name']}[colab] @ git+{repo}@{ref}")
    folder = Path(__file__).resolve().parents[2] / "notebooks"
    assert (folder / notebook).is_file()  # the badge's path exists in the repository
