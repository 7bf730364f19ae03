"""Image-to-image networks (U-Net family, RCAN): 2D and 3D from one code path.

``ndim`` (2 or 3) is a value: layers come from the small ``_LAYERS`` lookup. Every model
exposes ``ndim``, ``divisor`` (per spatial axis, input sizes must be multiples of it),
``receptive_field`` (per axis, one-sided theoretical reach in pixels) and ``halo``
(per axis, the context that actually matters, used for tiled prediction).

Halo choice: along the deepest path the network is a cascade of k-tap kernels at pixel
spacing s (convolutions, pooling, up-sampling).  Replacing every kernel by a unit box --
the "unit-weight" linearisation -- gives an impulse response whose variance is the sum of
the box variances ``s**2 * (k**2 - 1) / 12`` and which is close to Gaussian (central limit
theorem).  Influence beyond 3 standard deviations is < 0.3 %, so
``halo = min(receptive_field, ceil(3 * sigma))``; CSBDeep likewise sizes tile overlaps by
where the receptive field has measurable influence.  RCAN's channel attention pools
globally; that weak global term is excluded from its halo.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

ARCHITECTURES = ("unet", "resunet", "attention_unet", "rcan")
NORMALIZATIONS = ("bn", "in", "gn", "none")

_LAYERS = {
    2: {"conv": nn.Conv2d, "up": nn.ConvTranspose2d, "pool": nn.MaxPool2d,
        "gap": nn.AdaptiveAvgPool2d, "bn": nn.BatchNorm2d, "in": nn.InstanceNorm2d},
    3: {"conv": nn.Conv3d, "up": nn.ConvTranspose3d, "pool": nn.MaxPool3d,
        "gap": nn.AdaptiveAvgPool3d, "bn": nn.BatchNorm3d, "in": nn.InstanceNorm3d},
}

_Path = list[tuple[tuple[int, ...], tuple[int, ...]]]  # (kernel, spacing) per layer and axis


def _conv(ndim: int, cin: int, cout: int, k: int = 3) -> nn.Module:
    return _LAYERS[ndim]["conv"](cin, cout, k, padding=k // 2)


def _norm(kind: str, ndim: int, channels: int) -> nn.Module:
    if kind == "bn":
        return _LAYERS[ndim]["bn"](channels)
    if kind == "in":
        return _LAYERS[ndim]["in"](channels, affine=True)
    if kind == "gn":
        return nn.GroupNorm(math.gcd(8, channels), channels)
    return nn.Identity()


def _halo(path: _Path, ndim: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Theoretical one-sided receptive field and practical halo of a layer path."""
    reach, halo = [], []
    for a in range(ndim):
        r = sum((k[a] - 1) * s[a] for k, s in path) / 2
        var = sum(s[a] ** 2 * (k[a] ** 2 - 1) / 12 for k, s in path)
        reach.append(math.ceil(r))
        halo.append(min(math.ceil(r), math.ceil(3 * math.sqrt(var))))
    return tuple(reach), tuple(halo)


class _Net(nn.Module):
    """Base: records geometry, checks input sizes, optionally adds the input to the output."""

    def __init__(self, ndim: int, residual: bool, divisor: tuple[int, ...], path: _Path) -> None:
        super().__init__()
        self.ndim = ndim
        self.residual = residual
        self.divisor = divisor
        self.receptive_field, self.halo = _halo(path, ndim)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(N, C_in, *spatial)`` to ``(N, C_out, *spatial)``."""
        if any(n % d for n, d in zip(x.shape[2:], self.divisor, strict=True)):
            raise ValueError(
                f"spatial size {tuple(x.shape[2:])} is not a multiple of {self.divisor}"
            )
        y = self._forward(x)
        return y + x if self.residual else y


class _ConvBlock(nn.Sequential):
    """Two 3x3 convolutions, each followed by normalisation and ELU (BiaPy's U-Net block)."""

    def __init__(self, ndim: int, cin: int, cout: int, norm: str, dropout: float) -> None:
        super().__init__(
            _conv(ndim, cin, cout), _norm(norm, ndim, cout), nn.ELU(), nn.Dropout(dropout),
            _conv(ndim, cout, cout), _norm(norm, ndim, cout), nn.ELU(),
        )


class _ResBlock(nn.Module):
    """Full pre-activation residual block (He et al. 2016), as in BiaPy's ResUNet."""

    def __init__(
        self, ndim: int, cin: int, cout: int, norm: str, dropout: float, first: bool = False
    ) -> None:
        super().__init__()
        pre = [] if first else [_norm(norm, ndim, cin), nn.ELU()]
        self.body = nn.Sequential(
            *pre, _conv(ndim, cin, cout), _norm(norm, ndim, cout), nn.ELU(), nn.Dropout(dropout),
            _conv(ndim, cout, cout),
        )
        self.shortcut = nn.Identity() if cin == cout else _conv(ndim, cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``shortcut(x) + body(x)``."""
        return self.shortcut(x) + self.body(x)


class _AttentionGate(nn.Module):
    """Additive attention gate on a skip connection (Oktay et al. 2018)."""

    def __init__(self, ndim: int, channels: int, norm: str) -> None:
        super().__init__()
        inter = max(channels // 2, 1)
        self.w_skip = nn.Sequential(_conv(ndim, channels, inter, 1), _norm(norm, ndim, inter))
        self.w_gate = nn.Sequential(_conv(ndim, channels, inter, 1), _norm(norm, ndim, inter))
        self.psi = nn.Sequential(
            nn.ReLU(), _conv(ndim, inter, 1, 1), _norm(norm, ndim, 1), nn.Sigmoid()
        )

    def forward(self, skip: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        """Scale ``skip`` by a [0, 1] map computed from ``skip`` and the decoder ``gate``."""
        return skip * self.psi(self.w_skip(skip) + self.w_gate(gate))


class UNet(_Net):
    """U-Net (plain, residual blocks, or attention-gated skips) with a linear output."""

    def __init__(
        self,
        ndim: int,
        in_channels: int,
        out_channels: int,
        feature_maps: Sequence[int],
        pools: Sequence[tuple[int, ...]],
        normalization: str,
        dropout: Sequence[float],
        residual_blocks: bool,
        attention: bool,
        residual: bool,
    ) -> None:
        scales = [tuple(math.prod(p[a] for p in pools[:i]) for a in range(ndim))
                  for i in range(len(feature_maps))]
        three = (3,) * ndim
        path: _Path = [(three, scales[-1])] * 2
        for p, s in zip(pools, scales, strict=False):
            path += [(three, s)] * 4 + [(p, s)] * 2
        super().__init__(ndim, residual, scales[-1], path)
        fm, layers = list(feature_maps), _LAYERS[ndim]

        def block(cin: int, cout: int, level: int, first: bool = False) -> nn.Module:
            if residual_blocks:
                return _ResBlock(ndim, cin, cout, normalization, dropout[level], first)
            return _ConvBlock(ndim, cin, cout, normalization, dropout[level])

        self.encoders = nn.ModuleList(
            block(cin, cout, i, first=i == 0)
            for i, (cin, cout) in enumerate(zip([in_channels, *fm[:-1]], fm, strict=True))
        )
        self.pools = nn.ModuleList(layers["pool"](p) for p in pools)
        self.ups = nn.ModuleList(
            layers["up"](fm[i + 1], fm[i], p, stride=p) for i, p in enumerate(pools)
        )
        self.gates = (
            nn.ModuleList(_AttentionGate(ndim, f, normalization) for f in fm[:-1])
            if attention else None
        )
        self.decoders = nn.ModuleList(block(2 * f, f, i) for i, f in enumerate(fm[:-1]))
        self.head = _conv(ndim, fm[0], out_channels, 1)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for encoder, pool in zip(self.encoders, self.pools, strict=False):
            x = encoder(x)
            skips.append(x)
            x = pool(x)
        x = self.encoders[-1](x)
        for i in reversed(range(len(skips))):
            x = self.ups[i](x)
            skip = skips[i] if self.gates is None else self.gates[i](skips[i], x)
            x = self.decoders[i](torch.cat([skip, x], dim=1))
        return self.head(x)


class _ChannelAttention(nn.Module):
    """Squeeze-and-excitation channel attention (global average pool, bottleneck, sigmoid)."""

    def __init__(self, ndim: int, channels: int, reduction: int = 8) -> None:
        super().__init__()
        mid = max(channels // reduction, 1)
        self.body = nn.Sequential(
            _LAYERS[ndim]["gap"](1), _conv(ndim, channels, mid, 1), nn.ReLU(),
            _conv(ndim, mid, channels, 1), nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rescale the channels of ``x``."""
        return x * self.body(x)


class _Residual(nn.Sequential):
    """``x + body(x)`` for a sequential body."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x + body(x)``."""
        return x + super().forward(x)


class RCAN(_Net):
    """Residual channel attention network (Zhang et al. 2018) at scale x1."""

    def __init__(
        self,
        ndim: int,
        in_channels: int,
        out_channels: int,
        features: int = 32,
        groups: int = 3,
        blocks: int = 4,
        residual: bool = False,
    ) -> None:
        n_convs = 3 + groups * (2 * blocks + 1)
        super().__init__(ndim, residual, (1,) * ndim, [((3,) * ndim, (1,) * ndim)] * n_convs)

        def rcab() -> nn.Module:
            return _Residual(
                _conv(ndim, features, features), nn.ReLU(), _conv(ndim, features, features),
                _ChannelAttention(ndim, features),
            )

        self.head = _conv(ndim, in_channels, features)
        self.body = _Residual(
            *(_Residual(*(rcab() for _ in range(blocks)), _conv(ndim, features, features))
              for _ in range(groups)),
            _conv(ndim, features, features),
        )
        self.tail = _conv(ndim, features, out_channels)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(self.body(self.head(x)))


def build_model(
    architecture: str,
    ndim: int,
    in_channels: int,
    out_channels: int,
    feature_maps: Sequence[int] = (32, 64, 128, 256),
    z_down: Sequence[int] | None = None,
    normalization: str = "bn",
    dropout: Sequence[float] | float = 0.0,
    residual: bool = False,
) -> nn.Module:
    """Build an image-to-image regression network.

    Parameters
    ----------
    architecture : str
        One of ``ARCHITECTURES`` (case-insensitive).
    ndim : int
        Spatial dimensions, 2 or 3.
    in_channels, out_channels : int
        Channels of input and output.
    feature_maps : sequence of int
        U-Net channels per level (``len - 1`` poolings); RCAN uses ``feature_maps[0]``.
    z_down : sequence of int, optional
        3D only: z pooling factor (1 or 2) per pooling, default all 2. Ignored in 2D.
    normalization : str
        ``"bn"``, ``"in"``, ``"gn"`` or ``"none"`` (U-Nets; RCAN has none).
    dropout : float or sequence of float
        U-Net dropout, one value or one per level.
    residual : bool
        Predict a correction added to the input (needs ``in_channels == out_channels``).

    Returns
    -------
    nn.Module
        Model with ``ndim``, ``divisor``, ``receptive_field`` and ``halo`` attributes.
    """
    arch = architecture.lower()
    if arch not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {architecture!r}; valid: {', '.join(ARCHITECTURES)}"
        )
    if ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, got {ndim}")
    if residual and in_channels != out_channels:
        raise ValueError(
            f"residual=True needs in_channels == out_channels, got {in_channels} != {out_channels}"
        )
    if not feature_maps:
        raise ValueError("feature_maps must not be empty")
    if arch == "rcan":
        return RCAN(ndim, in_channels, out_channels, feature_maps[0], residual=residual)
    norm = normalization.lower()
    if norm not in NORMALIZATIONS:
        raise ValueError(
            f"unknown normalization {normalization!r}; valid: {', '.join(NORMALIZATIONS)}"
        )
    n_pool = len(feature_maps) - 1
    z_down = [2] * n_pool if z_down is None else list(z_down)
    if len(z_down) != n_pool or any(z not in (1, 2) for z in z_down):
        raise ValueError(f"z_down must be {n_pool} values in {{1, 2}}, got {z_down}")
    if isinstance(dropout, float | int):
        dropout = [dropout] * len(feature_maps)
    drops = [float(d) for d in dropout]
    if len(drops) != len(feature_maps):
        raise ValueError(f"dropout needs {len(feature_maps)} values, got {len(drops)}")
    pools = [(z, 2, 2) if ndim == 3 else (2, 2) for z in z_down]
    return UNet(
        ndim, in_channels, out_channels, feature_maps, pools, norm, drops,
        residual_blocks=arch == "resunet", attention=arch == "attention_unet", residual=residual,
    )


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
