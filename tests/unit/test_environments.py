"""pyproject, environment.yml and binder/ declare the same dependencies."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
NOT_PACKAGES = {"python", "pip", "jupyterlab"}  # the environment itself, and Binder's UI


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    notebook = extras["notebook"] + extras["bmz"]  # the notebooks' export section needs bmz
    return {_name(r) for r in project["dependencies"] + notebook}


def _test_extra() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_name(r) for r in project["optional-dependencies"]["test"]}


def _conda(path: Path) -> set[str]:
    names = set()
    for entry in yaml.safe_load(path.read_text())["dependencies"]:
        items = entry["pip"] if isinstance(entry, dict) else [entry]
        names |= {_name(i) for i in items if not i.startswith("-")}
    return names - NOT_PACKAGES


def test_environment_yml_matches_pyproject():
    """The runtime and notebook dependencies; test tools only from the ``test`` extra
    (Hypothesis, so the property tests run in these environments too)."""
    names = _conda(ROOT / "environment.yml")
    assert names - (_test_extra() - _pyproject()) == _pyproject()
    assert "hypothesis" in names


def test_binder_matches_pyproject_and_installs_the_package():
    names = _conda(ROOT / "binder" / "environment.yml")
    assert names - (_test_extra() - _pyproject()) == _pyproject()
    assert "hypothesis" in names
    assert "pip install --no-deps -e ." in (ROOT / "binder" / "postBuild").read_text()


def test_the_lab_extra_is_in_both_conda_environments():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lab = {_name(r) for r in project["optional-dependencies"]["lab"]}
    assert lab == {"jupyterlab"}
    for path in (ROOT / "environment.yml", ROOT / "binder" / "environment.yml"):
        listed = {_name(e) for e in yaml.safe_load(path.read_text())["dependencies"]
                  if isinstance(e, str)}
        assert lab <= listed, path
