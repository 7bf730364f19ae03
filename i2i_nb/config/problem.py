"""``PROBLEM``: the workflow, the number of spatial dimensions and BiaPy's image-to-image keys."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class MembraneRepairConfig:
    """``PROBLEM.IMAGE_TO_IMAGE.MEMBRANE_REPAIR``: BiaPy's membrane-repair segmentation
    post-process. Not an image-to-image regression: refused when enabled."""

    enable: bool = False


@dataclass
class ImageToImageConfig:
    """``PROBLEM.IMAGE_TO_IMAGE``.

    ``OUTPUT_CHANNELS`` is checked against the targets, whose channel count decides
    (0: not given). ``OUTPUT_CHANNEL_ACT`` is one activation per output channel (or one for
    all) applied to the network's output: ``linear``/``none``, ``sigmoid``, ``relu``, ``tanh``,
    ``softplus``. ``CHANNELS_PER_HEAD_INFO`` splits the output channels into heads (a list of
    channel counts); with ``SEPARATED_DECODERS_PER_HEAD`` each head gets its own decoder
    (``SEPARATED_DECODERS_DIVIDE_FEATURE_MAPS`` divides the decoders' feature maps by the
    number of heads), otherwise the heads share the decoder and differ in their last layer.
    """

    multiple_raw_one_target_loader: bool = False
    output_channels: int = 0
    output_channel_act: list[str] = field(default_factory=list)
    channels_per_head_info: list[int] = field(default_factory=list)
    separated_decoders_per_head: bool = False
    separated_decoders_divide_feature_maps: bool = False
    membrane_repair: MembraneRepairConfig = field(default_factory=MembraneRepairConfig)


@dataclass
class ProblemConfig:
    """``PROBLEM``: the workflow and the number of spatial dimensions."""

    type: str = "IMAGE_TO_IMAGE"
    ndim: str = "2D"
    print_old_key_changes: bool = True
    image_to_image: ImageToImageConfig = field(default_factory=ImageToImageConfig)
