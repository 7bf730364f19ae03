"""Image-to-image networks: BiaPy 3.7.1's image-to-image architectures, 2D and 3D from one
code path (``ndim`` is a value), one file per family and one factory.

- :mod:`~i2i_nb.models.base`: the geometry every model exposes (``divisor``, ``halo``...);
- :mod:`~i2i_nb.models.blocks`: shared convolution, normalisation and attention blocks;
- :mod:`~i2i_nb.models.unet`: unet, resunet, attention_unet, seunet, resunet_se;
- :mod:`~i2i_nb.models.resunet_pp`: resunet++;
- :mod:`~i2i_nb.models.multiresunet`: multiresunet;
- :mod:`~i2i_nb.models.sr`: rcan, edsr, wdsr, dfcan;
- :mod:`~i2i_nb.models.stunet`: stunet (STU-Net);
- :mod:`~i2i_nb.models.unetr`: unetr (a vision transformer encoder, a fixed input size);
- :mod:`~i2i_nb.models.hrnet`: hrnet (its blocks and heads in
  :mod:`~i2i_nb.models.hrnet_parts`);
- :mod:`~i2i_nb.models.factory`: :func:`build_model` from a :class:`ModelSpec`.
"""

from i2i_nb.models.factory import ARCHITECTURES, NOT_BUILT, build_model, count_parameters
from i2i_nb.models.spec import ModelSpec

__all__ = ["ARCHITECTURES", "NOT_BUILT", "ModelSpec", "build_model", "count_parameters"]
