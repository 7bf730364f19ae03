"""Whether a person is looking: a live front end (JupyterLab, Notebook, Colab, VS Code)
rather than a headless run (papermill, nbval, nbconvert) or plain Python.

Live front ends send each cell's ``execute_request`` with ``allow_stdin`` true (they can
answer ``input()``); the headless executors (nbclient, which papermill and nbconvert use,
and nbval) send it false. The request is the kernel's current parent message.
"""

from __future__ import annotations

from typing import Any

from IPython import get_ipython


def _current_request() -> dict[str, Any]:
    """The message the kernel is executing, ``{}`` outside a kernel."""
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return {}
    get_parent = getattr(kernel, "get_parent", None)  # ipykernel 6+
    parent = get_parent() if callable(get_parent) else getattr(shell, "parent_header", {})
    return parent if isinstance(parent, dict) else {}


def live_frontend() -> bool:
    """True when the running cell was sent by a front end a person uses.

    False under papermill, nbval and nbconvert, in a terminal IPython and in plain
    Python: there buttons and sliders would never be clicked.
    """
    content = _current_request().get("content", {})
    return bool(isinstance(content, dict) and content.get("allow_stdin", False))


def resolve_interactive(interactive: bool | None) -> bool:
    """``interactive`` as given, or :func:`live_frontend` when it is None."""
    return live_frontend() if interactive is None else bool(interactive)
