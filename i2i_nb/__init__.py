"""i2i_nb: paired image-to-image deep learning for microscopy."""

__version__ = "0.1.0"
