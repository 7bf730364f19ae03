"""Set-up cell: in Colab install the package (keeping Colab's torch), then report versions.

Only the standard library is imported at module level: in Colab the set-up cell
imports this module after a ``--no-deps`` install of the package, before its
dependencies are there.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tempfile
from pathlib import Path

_URL = re.compile(r"https://[\w.-]+(/[\w.-]+)+")
_REF = re.compile(r"[\w][\w./-]*")

# The one place the notebooks' address is written: the Colab badge, the set-up cell's
# bootstrap install and :func:`install_command` are all made from these.
REPOSITORY = "https://github.com/i2i-notebooks/i2i-notebooks"
BRANCH = "main"
PACKAGE = "i2i-nb"  # the distribution name in pyproject.toml


def git_source(repo_url: str = REPOSITORY, ref: str = BRANCH) -> str:
    """pip's ``git+<repo>@<ref>`` address of the package."""
    return f"git+{repo_url}@{ref}"


def colab_url(notebook: str, repo_url: str = REPOSITORY, ref: str = BRANCH) -> str:
    """The address that opens ``notebook`` (a path in the repository) in Colab."""
    if not repo_url.startswith("https://github.com/"):
        raise ValueError(f"repo_url {repo_url!r}: Colab opens notebooks from GitHub only")
    return (repo_url.replace("https://github.com/", "https://colab.research.google.com/github/")
            + f"/blob/{ref}/{notebook}")


def in_colab() -> bool:
    """Whether this kernel runs in Google Colab."""
    return "google.colab" in sys.modules


def install_command(repo_url: str, ref: str, constraints: Path | None) -> list[str]:
    """The pip command (an argument list, no shell) installing ``git+{repo_url}@{ref}``.

    The ``colab`` extra adds what Colab lacks (``jupyter-ui-poll``, for the Stop
    button); ``constraints`` is a pip constraints file pinning the installed torch.
    """
    if not _URL.fullmatch(repo_url):
        raise ValueError(f"repo_url {repo_url!r} is not an https repository address")
    if not _REF.fullmatch(ref) or ".." in ref:
        raise ValueError(f"ref {ref!r} is not a branch, tag or commit name")
    command = [sys.executable, "-m", "pip", "install", "--quiet",
               f"{PACKAGE}[colab] @ {git_source(repo_url, ref)}"]
    return command + (["--constraint", str(constraints)] if constraints else [])


def _torch_pin(folder: Path) -> Path | None:
    """A constraints file ``torch==<installed version>``, None when torch is not installed."""
    try:
        version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = folder / "constraints.txt"
    path.write_text(f"torch=={version}\n")
    return path


def environment_info() -> dict[str, str]:
    """Versions of torch and i2i_nb, and the GPU torch sees."""
    import torch

    from i2i_nb import __version__

    cuda = torch.cuda.is_available()
    return {"torch": torch.__version__, "cuda": str(cuda),
            "gpu": torch.cuda.get_device_name(0) if cuda else "none (CPU only)",
            "i2i_nb": __version__}


def setup_environment(repo_url: str = REPOSITORY, ref: str = BRANCH) -> dict[str, str]:
    """Prepare the kernel and print what it has.

    In Colab: pip-install ``git+{repo_url}@{ref}`` with its dependencies, torch
    pinned to Colab's own build, and enable Colab's custom widget manager.
    Elsewhere the installed package is used as it is.

    Returns
    -------
    dict
        ``torch``, ``cuda``, ``gpu`` and ``i2i_nb`` versions as text.
    """
    if in_colab():
        with tempfile.TemporaryDirectory() as tmp:
            command = install_command(repo_url, ref, _torch_pin(Path(tmp)))
            subprocess.run(command, check=True)
        from google.colab import output

        output.enable_custom_widget_manager()
    info = environment_info()
    print("  ".join(f"{key}: {value}" for key, value in info.items()))
    return info
