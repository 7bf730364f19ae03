"""i2i_nb: paired image-to-image deep learning for microscopy.

The front door is :class:`i2i_nb.Model` (load a checkpoint or a zoo package, predict numpy
arrays, export, train from a config); it is imported on first use, so ``import i2i_nb``
stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Model", "__version__"]

if TYPE_CHECKING:
    from i2i_nb.model import Model


def __getattr__(name: str) -> Any:
    if name == "Model":
        from i2i_nb.model import Model

        return Model
    raise AttributeError(f"module 'i2i_nb' has no attribute {name!r}")
