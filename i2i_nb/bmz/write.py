"""Write a model description to disk as a package folder or zip, and test what was written.

``bioimageio.spec`` writes the YAML with defaults left out; an input's ``pad`` is then
``{}``, which reads back as zero padding. The written YAML gets the padding mode back
(reflect, as this project's tiler pads), and the test runs on the files as written.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

from i2i_nb.errors import ConfigError

PAD_WRITTEN, PAD_MEANT = "    pad: {}\n", "    pad:\n      mode: reflect\n"


def save_folder(descr: Any, folder: Path) -> Path:
    """The package's files in ``folder``; returns its YAML."""
    from bioimageio.spec import save_bioimageio_package_as_folder

    save_bioimageio_package_as_folder(descr, output_path=folder)
    rdf = next(p for p in folder.iterdir() if p.name in ("rdf.yaml", "bioimageio.yaml")
               or p.name.endswith(".bioimageio.yaml"))
    text = rdf.read_text()
    if text.count(PAD_WRITTEN) == 1:
        rdf.write_text(text.replace(PAD_WRITTEN, PAD_MEANT))
    elif PAD_MEANT not in text:
        raise ConfigError(f"{rdf}: unexpected padding entries written by bioimageio.spec")
    return rdf


def expected_validation(formats: list[str]) -> list[str]:
    """The README's Validation lines: what :func:`test_package` checks (and raises on)."""
    import bioimageio.core
    import bioimageio.spec

    return [f"bioimageio.spec {bioimageio.spec.__version__}: the package is valid",
            f"bioimageio.core {bioimageio.core.__version__} `test_model` on the CPU: passed "
            f"(weights: {', '.join(formats)}; the test tensors and several input sizes)"]


def test_package(rdf: Path, formats: list[str]) -> list[str]:
    """Load the written package with ``bioimageio.spec`` and run ``bioimageio.core``'s model
    test on the CPU; the README lines saying so, or ConfigError with the errors."""
    import bioimageio.core

    summary = bioimageio.core.test_model(rdf, devices=["cpu"])
    if summary.status != "passed":
        errors = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in summary.errors)
        raise ConfigError(f"the package failed bioimageio.core's model test: {errors}")
    return expected_validation(formats)


def place(folder: Path, out: Path) -> Path:
    """Move the package folder to ``out``, or zip it there when ``out`` ends in .zip."""
    if out.exists():
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() != ".zip":
        shutil.move(folder, out)
        return out
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    tmp.replace(out)
    return out
