"""Pixel sizes of an image, as read from TIFF (ImageJ, OME) or OME-Zarr, and written back.

:class:`PixelSize` is the one description passed between readers and writers: a size and
a unit per spatial axis of the channel-last view (``(z,) y, x``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# NGFF's unit names (UDUNITS-2) of the usual microscopy spatial units, and ImageJ's
_NGFF_UNITS = {"nm": "nanometer", "um": "micrometer", "µm": "micrometer", "μm": "micrometer",
               "micron": "micrometer", "mm": "millimeter", "cm": "centimeter", "m": "meter",
               "a": "angstrom", "å": "angstrom", "pm": "picometer"}
_SHORT_UNITS = {"nanometer": "nm", "micrometer": "um", "millimeter": "mm", "centimeter": "cm",
                "meter": "m", "angstrom": "A", "picometer": "pm"}


def ngff_unit(unit: str) -> str:
    """The NGFF (UDUNITS-2) name of a unit: ``um`` or ``µm`` -> ``micrometer``; a name NGFF
    knows is kept; an unknown one is returned as it is."""
    text = unit.strip()
    return _NGFF_UNITS.get(text.lower(), text.lower() if text.lower() in _SHORT_UNITS else text)


def short_unit(unit: str) -> str:
    """The unit as ImageJ writes it (``micrometer`` -> ``um``), else unchanged."""
    return _SHORT_UNITS.get(ngff_unit(unit), unit)


@dataclass(frozen=True)
class PixelSize:
    """Size of a pixel (voxel) per spatial axis of the channel-last view, in ``units``.

    ``sizes`` and ``units`` are ``(y, x)`` or ``(z, y, x)``; a unit may be ``""`` (unknown).
    """

    sizes: tuple[float, ...]
    units: tuple[str, ...]

    @classmethod
    def unknown(cls, ndim: int) -> PixelSize:
        """Size 1 per axis, no unit: what a file without pixel sizes has."""
        return cls((1.0,) * ndim, ("",) * ndim)

    @classmethod
    def of(cls, sizes: Sequence[float], units: Sequence[str] | str = "") -> PixelSize:
        """From sizes and one unit (for all axes) or one per axis."""
        units = (units,) * len(sizes) if isinstance(units, str) else tuple(units)
        return cls(tuple(float(s) for s in sizes), tuple(str(u) for u in units))

    @property
    def known(self) -> bool:
        """Whether any size or unit was read from the file."""
        return any(u for u in self.units) or any(s != 1.0 for s in self.sizes)

    @property
    def unit(self) -> str:
        """One unit for all axes (ImageJ holds one): the y axis's, else the first given."""
        given = [u for u in self.units if u]
        return self.units[-2] or (given[0] if given else "")
