"""Read a local bioimage.io package back as a checkpoint payload, running none of its code.

Only the package's YAML (``yaml.safe_load``) and its ``pytorch_state_dict`` weights
(``torch.load(weights_only=True)``, after the sha256 check) are read. The network is built
by this project's own code from the package's keyword arguments, which it can do for the
packages it exported (their architecture callable is
:data:`~i2i_nb.bmz.source.ENTRY` and their ``config.i2i_nb`` holds the normalisation);
any other package is refused with the reason. Nothing is downloaded: a DOI or a zoo
nickname is refused too. Works without bioimageio installed.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import torch
import yaml

from i2i_nb.bmz.source import ENTRY
from i2i_nb.checkpoint import model_from_checkpoint
from i2i_nb.errors import ConfigError

RDF_NAMES = ("rdf.yaml", "bioimageio.yaml")
CONFIG_KEY = "i2i_nb"


class _Package:
    """Files of a package in a folder or a zip, read by relative name only."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.zip: zipfile.ZipFile | None = None
        self.root = source
        self.rdf_name = ""
        if source.is_file() and zipfile.is_zipfile(source):
            self.zip = zipfile.ZipFile(source)
            names = set(self.zip.namelist())
            self.rdf_name = next((n for n in names if n in RDF_NAMES
                                  or n.endswith(".bioimageio.yaml")), "")
        elif source.is_file() and source.suffix.lower() in (".yaml", ".yml"):
            self.root, self.rdf_name = source.parent, source.name
        elif source.is_dir():
            found = [p.name for p in source.iterdir() if p.name in RDF_NAMES
                     or p.name.endswith(".bioimageio.yaml")]
            self.rdf_name = found[0] if found else ""
        if not self.rdf_name:
            raise ConfigError(f"{source}: not a bioimage.io package (no rdf.yaml or "
                              "bioimageio.yaml in the folder or zip)")

    def read(self, name: str) -> bytes:
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts or "://" in name:
            raise ConfigError(f"{self.source}: the file {name!r} is not inside the package "
                              "(only files in the package are read; nothing is downloaded)")
        try:
            if self.zip is not None:
                return self.zip.read(str(relative))
            return (self.root / relative).read_bytes()
        except (KeyError, OSError) as err:
            raise ConfigError(f"{self.source}: the package lacks {name}") from err


def _locate(source: str | Path) -> Path:
    path = Path(source).expanduser()
    if path.exists():
        return path
    text = str(source)
    kind = ("a DOI" if text.startswith("10.") or "doi.org" in text else "a URL" if "://" in text
            else "a zoo nickname or a path that does not exist")
    raise ConfigError(f"MODEL.BMZ.SOURCE_MODEL_ID: {text!r} looks like {kind}; i2i_nb reads "
                      "local packages only (a folder, a .zip or its rdf.yaml) and never "
                      "downloads: download the package first and give its path")


def read_description(source: str | Path) -> tuple[dict[str, Any], _Package]:
    """The package's YAML as plain values."""
    package = _Package(_locate(source))
    try:
        rdf = yaml.safe_load(package.read(package.rdf_name))
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: {package.rdf_name} is not valid YAML: {err}") from err
    if not isinstance(rdf, dict) or rdf.get("type") != "model":
        raise ConfigError(f"{source}: not a bioimage.io model description (type "
                          f"{rdf.get('type') if isinstance(rdf, dict) else None!r})")
    return rdf, package


def _ours(rdf: dict[str, Any], source: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The state-dict weights entry and the i2i_nb metadata, or a refusal saying why."""
    weights = rdf.get("weights") or {}
    state = weights.get("pytorch_state_dict")
    name = rdf.get("name", "?")
    if not isinstance(state, dict):
        formats = ", ".join(weights) or "none"
        raise ConfigError(f"{source}: the package {name!r} has no pytorch_state_dict weights "
                          f"(it has: {formats}); i2i_nb loads only state-dict weights, never "
                          "code such as TorchScript, ONNX or Keras files")
    arch = state.get("architecture") or {}
    callable_name = arch.get("callable") or arch.get("callable_name")
    config = (rdf.get("config") or {}).get(CONFIG_KEY) or {}
    meta = config.get("meta") if isinstance(config, dict) else None
    if callable_name != ENTRY or not isinstance(meta, dict):
        where = arch.get("source") or arch.get("import_from") or "?"
        raise ConfigError(
            f"{source}: the package {name!r} needs the network {callable_name!r} from "
            f"{where}, which i2i_nb does not build: it builds only the networks it exported "
            "itself (from its own code, with the package's keyword arguments) and never runs "
            "a package's Python code")
    return state, meta


def load_package(source: str | Path) -> dict[str, Any]:
    """A checkpoint payload (``model``, ``meta``, ``bmz``) from a package i2i_nb exported.

    Raises
    ------
    ConfigError
        Not a local package, not one this project can build, a weights file whose sha256
        differs, or weights that do not fit the described network.
    """
    rdf, package = read_description(source)
    state, meta = _ours(rdf, source)
    data = package.read(str(state["source"]))
    if state.get("sha256") and hashlib.sha256(data).hexdigest() != state["sha256"]:
        raise ConfigError(f"{source}: {state['source']} does not match its sha256 in "
                          f"{package.rdf_name}; the package is damaged or was altered")
    try:
        weights = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure means the file is unusable
        raise ConfigError(f"{source}: cannot read {state['source']} as weights only (tensors "
                          f"and plain values); nothing in it was run ({err})") from err
    kwargs = dict(state["architecture"].get("kwargs") or {})
    described = {k: kwargs.pop(k, meta.get(k)) for k in
                 ("architecture", "ndim", "in_channels", "out_channels",
                  "output_activations")}
    described["output_activations"] = described["output_activations"] or []
    meta = {**meta, **described, "model_kwargs": kwargs}
    payload = {"model": weights, "meta": meta, "bmz": _about(rdf)}
    model_from_checkpoint(payload, source)  # refuses weights that do not fit
    return payload


def _about(rdf: dict[str, Any]) -> dict[str, Any]:
    """What ``MODEL.BMZ.EXPORT.REUSE_BMZ_CONFIG`` takes from the package."""
    return {k: rdf.get(k) for k in ("name", "description", "authors", "license", "tags",
                                    "cite", "version")}
