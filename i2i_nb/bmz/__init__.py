"""BioImage Model Zoo packages out and in.

- :mod:`i2i_nb.bmz.export`: write a checkpoint as a bioimage.io 0.5 package, checked by
  ``bioimageio.core`` (needs the ``[bmz]`` extra);
- :mod:`i2i_nb.bmz.load`: read a local package this project exported back, running none of
  its code (no extra needed);
- :mod:`i2i_nb.bmz.source`: the network's code as one file that imports only torch;
- :mod:`i2i_nb.bmz.describe`, :mod:`i2i_nb.bmz.processing`, :mod:`i2i_nb.bmz.docs`: the
  description, the pre/post-processing, the README and cover;
- :mod:`i2i_nb.bmz.runs`: ``MODEL.SOURCE: bmz`` and ``MODEL.BMZ.EXPORT`` in a run.
"""
