"""UNETR (Hatamizadeh et al. 2022) as BiaPy 3.7.1 lays it out for image to image, 2D and 3D.

Encoder: a vision transformer over the input cut into ``VIT_TOKEN_SIZE`` tokens (a
convolution with kernel and stride the token size), a class token, ``VIT_NUM_LAYERS``
pre-norm transformer blocks (``VIT_NUM_HEADS`` heads, an MLP of ``VIT_MLP_RATIO`` times
``VIT_EMBED_DIM`` with GELU, query/key/value biases, layer norms of eps 1e-5: timm's ``Block``
that BiaPy uses, here torch's ``TransformerEncoderLayer``). As in BiaPy, the tokens get no
position embedding: BiaPy's fixed embedding is a zero tensor that is never filled in.

Decoder (``L = log2(token size)`` levels, ``f = UNETR_VIT_NUM_FILTERS``): the last block's
tokens, as a grid, go through a 2x transposed convolution to ``f * 2**(L-1)`` filters; at
each level ``l = L-1 .. 1`` the tokens of block ``l' * m`` (``m = UNETR_VIT_HIDD_MULT``, the
deepest level taking the latest block) go up by ``L - l`` x (2x transposed convolution,
convolution block) to ``f * 2**l`` filters, are concatenated, pass a double convolution block
and a 2x transposed convolution to ``f * 2**(l-1)``; the input itself passes a double
convolution block to ``f`` filters, is concatenated, and a last double convolution block
feeds the 1x1 heads (one per ``CHANNELS_PER_HEAD_INFO`` entry). Convolution blocks are
(conv ``KERNEL_SIZE``, ``NORMALIZATION``, ``ACTIVATION``, dropout ``DROPOUT_VALUES[0]``);
transposed convolutions have no bias. Weights start as BiaPy's: Xavier-uniform convolutions
and linear layers, zero biases.

The input size is fixed (``fixed_shape``: the training patch, a multiple of the token size
per axis; BiaPy needs a square or cubic one, here any): images are tiled at that size.
Attention is global over the tile, a term no finite halo holds, so ``halo`` is that of the
convolutional path (patch embedding, decoder) alone, as for squeeze-and-excitation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from i2i_nb.config.model import UNETR_VIT_MODELS
from i2i_nb.models.base import Net, Path
from i2i_nb.models.blocks import LAYERS, ConvBlock, conv
from i2i_nb.models.spec import ModelSpec


@dataclass(frozen=True)
class ViTSizes:
    """The vision transformer's sizes and the decoder's skip connections."""

    token: int
    embed_dim: int
    depth: int
    heads: int
    mlp_ratio: float
    hidd_mult: int  # skip connections from the blocks hidd_mult, 2 * hidd_mult, ...

    @property
    def levels(self) -> int:
        """Decoder levels: one 2x up-sampling each, from the token grid to the pixels."""
        return int(math.log2(self.token))

    @property
    def skip_blocks(self) -> list[int]:
        """The (1-based) blocks whose tokens feed the decoder, the shallowest first."""
        return [self.hidd_mult * i for i in range(1, self.levels)]


def vit_sizes(spec: ModelSpec) -> ViTSizes:
    """The ViT ``spec`` asks for (a named backbone's sizes, or the ``vit_*`` fields).

    Raises
    ------
    ValueError
        An unknown or refused backbone, a token size that is not a power of two, an
        embedding not divisible by the heads, or skip connections beyond the last block.
    """
    name = spec.unetr_vit_model.lower()
    if name == "sam3_vit":
        raise ValueError("unetr_vit_model 'sam3_vit' (SAM 3's image encoder, with rotary "
                         "position embeddings and windowed attention) is built in BiaPy to load "
                         "its pretrained weights, downloaded at run time; i2i_nb builds neither")
    if name != "custom" and name not in UNETR_VIT_MODELS:
        raise ValueError(f"unknown unetr_vit_model {name!r}; valid: custom, "
                         f"{', '.join(UNETR_VIT_MODELS)}")
    token, embed, depth, heads, ratio = UNETR_VIT_MODELS.get(name) or (
        spec.vit_token_size, spec.vit_embed_dim, spec.vit_num_layers, spec.vit_num_heads,
        spec.vit_mlp_ratio)
    if token < 2 or token & (token - 1):
        raise ValueError(f"UNETR's token size must be a power of two above one (its decoder "
                         f"up-samples by 2 per level), got {token}")
    if min(embed, depth, heads) < 1 or embed % heads or ratio <= 0:
        raise ValueError(f"vit_embed_dim ({embed}) must be a multiple of vit_num_heads "
                         f"({heads}), with vit_num_layers ({depth}) and vit_mlp_ratio ({ratio}) "
                         "positive")
    levels = int(math.log2(token))
    mult = spec.unetr_vit_hidd_mult if spec.unetr_vit_hidd_mult > 0 else max(1, depth // levels)
    if mult * (levels - 1) > depth:
        raise ValueError(f"unetr_vit_hidd_mult {spec.unetr_vit_hidd_mult} takes skip "
                         f"connections from the blocks {[mult * i for i in range(1, levels)]} "
                         f"of a {depth}-block encoder; use {max(1, depth // levels)} or less, "
                         f"or -1 (a token size of {token} needs {levels - 1} block(s) or more)")
    return ViTSizes(token, embed, depth, heads, ratio, mult)


def _path(ndim: int, vit: ViTSizes, k: int) -> Path:
    """The convolutional path (the global attention left out): patch embedding, the
    bottleneck's up-sampling, per level a double block and an up-sampling, the last block."""
    one = (1,) * ndim
    path: Path = [((vit.token,) * ndim, one), ((2,) * ndim, (vit.token // 2,) * ndim)]
    for layer in reversed(range(1, vit.levels)):
        path += [((k,) * ndim, (2 ** layer,) * ndim)] * 2
        path.append(((2,) * ndim, (2 ** (layer - 1),) * ndim))
    return path + [((k,) * ndim, one)] * 2


class UNETR(Net):
    """BiaPy's UNETR for a fixed input size (see the module docstring)."""

    def __init__(self, spec: ModelSpec) -> None:
        ndim, vit = spec.ndim, vit_sizes(spec)
        shape = tuple(int(s) for s in spec.input_shape)  # checked by the factory
        super().__init__(ndim, spec.residual, (vit.token,) * ndim,
                         _path(ndim, vit, spec.kernel_size))
        self.fixed_shape = shape
        self.vit = vit
        self.grid = tuple(s // vit.token for s in shape)
        e, f, k = vit.embed_dim, spec.unetr_vit_num_filters, spec.kernel_size
        nk, act = spec.normalization, spec.activation
        drop = float(spec.dropout[0] if isinstance(spec.dropout, list) else spec.dropout)
        up = LAYERS[ndim]["up"]

        def upsample(cin: int, cout: int) -> nn.Module:
            return up(cin, cout, 2, stride=2, bias=False)

        def block(cin: int, cout: int, nconvs: int = 1) -> nn.Module:
            return ConvBlock(ndim, cin, cout, k, nk, act, drop, nconvs)

        self.patch_embed = LAYERS[ndim]["conv"](spec.in_channels, e, vit.token,
                                                stride=vit.token)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, e))
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(e, vit.heads, int(e * vit.mlp_ratio), dropout=0.0,
                                       activation="gelu", batch_first=True, norm_first=True)
            for _ in range(vit.depth))
        levels = vit.levels
        self.bottleneck = upsample(e, f * 2 ** (levels - 1))
        self.skips, self.merges, self.ups = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for layer in reversed(range(1, levels)):
            width = f * 2 ** layer
            steps: list[nn.Module] = []
            for i in range(levels - layer):
                steps += [upsample(e if i == 0 else width, width), block(width, width)]
            self.skips.append(nn.Sequential(*steps))
            self.merges.append(block(2 * width, width, 2))
            self.ups.append(upsample(width, f * 2 ** (layer - 1)))
        self.input_block = block(spec.in_channels, f, 2)
        self.output_block = block(2 * f, f, 2)
        self.heads = nn.ModuleList(conv(ndim, f, h, 1) for h in spec.heads or
                                   [spec.out_channels])
        self.apply(_biapy_init)

    def _grid(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(N, tokens, E)`` (no class token) as an ``(N, E, *grid)`` feature map."""
        return tokens.transpose(1, 2).reshape(tokens.shape[0], -1, *self.grid)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)
        h = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), tokens], dim=1)
        skips = []
        for i, layer in enumerate(self.blocks, start=1):
            h = layer(h)
            if i in self.vit.skip_blocks:
                skips.insert(0, h[:, 1:])  # the deepest level takes the latest block
        y = self.bottleneck(self._grid(h[:, 1:]))
        for skip, merge, up, tokens in zip(self.skips, self.merges, self.ups, skips,
                                           strict=True):
            y = up(merge(torch.cat([y, skip(self._grid(tokens))], dim=1)))
        y = self.output_block(torch.cat([self.input_block(x), y], dim=1))
        return torch.cat([head(y) for head in self.heads], dim=1)


def _biapy_init(module: nn.Module) -> None:
    """BiaPy's ``init_weights``: Xavier-uniform convolutions and linear layers, zero biases
    (transposed convolutions and the attention's input projection keep torch's, which is
    Xavier-uniform for the latter too)."""
    if isinstance(module, nn.Conv2d | nn.Conv3d | nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
