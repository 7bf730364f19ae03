"""A Stop button that a running training cell can see being clicked.

While a cell runs, the kernel handles widget messages only when the cell yields:
ipykernel 7 does so whenever the cell awaits, so training runs in a worker
thread while the cell awaits it; ipykernel 6 and older (Colab) need
``jupyter-ui-poll`` to process them, used when it is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

import ipywidgets
from IPython import get_ipython
from IPython.display import display


class StopButton:
    """A button that asks training to stop after the current epoch."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.button = ipywidgets.Button(description="Stop after this epoch", icon="stop",
                                        button_style="warning", layout={"width": "260px"})
        self.button.on_click(lambda _: self.request())

    def request(self) -> None:
        """Ask to stop (the button's action)."""
        self.event.set()
        self.button.description = "Stopping after this epoch..."
        self.button.disabled = True

    def requested(self) -> bool:
        """Whether a stop was asked (a ``stop_requested`` callback)."""
        return self.event.is_set()

    def finish(self, epoch: int) -> None:
        """Say where training ended (the button stays, disabled, so no view goes stale)."""
        self.button.disabled = True
        self.button.button_style = ""
        self.button.icon = "check"
        self.button.description = (f"Stopped after epoch {epoch}" if self.requested()
                                   else f"Training ended after epoch {epoch}")

    def show(self) -> None:
        """Display the button."""
        display(self.button)


@contextlib.asynccontextmanager
async def ui_poll() -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """A coroutine function handling pending widget messages on kernels that need it."""
    kernel = getattr(get_ipython(), "kernel", None)
    try:
        from jupyter_ui_poll import ui_events
    except ImportError:
        ui_events = None
    if ui_events is None or not hasattr(kernel, "do_one_iteration"):
        yield lambda: asyncio.sleep(0)
        return
    async with ui_events() as poll:
        yield lambda: poll(10)

