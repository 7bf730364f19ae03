"""Every network: geometry, shapes through the tiler, tiling, checkpoints, BiaPy's sizes."""

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from i2i_nb.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from i2i_nb.config.validate_model import ARCHITECTURES as CONFIG_ARCHITECTURES
from i2i_nb.config.validate_model import NOT_BUILT
from i2i_nb.models import ARCHITECTURES, ModelSpec, build_model, count_parameters
from i2i_nb.models.multiresunet import biapy_layout
from i2i_nb.predict import predict_image

SMALL = (4, 8, 16)
CASES = [(a, n) for a in ARCHITECTURES for n in (2, 3) if not (a == "wdsr" and n == 3)]
# Networks with a global term (squeeze-and-excitation, channel or Fourier attention): tiles
# see their own global statistics, so only a one-tile prediction equals the whole image.
# Measured with an overlap of 4 x halo (2D, the sizes below): 2e-7 to 5e-7 without a global
# term; 4e-6 (rcan), 7e-6 (seunet), 2e-5 (resunet_se) and 1e-2 (dfcan) with one, as
# squeeze-and-excitation, channel and Fourier attention pool over the whole tile (NAFNet's
# simplified channel attention too).
# STU-Net's instance normalisation is per sample over the whole input, a global term too.
GLOBAL = ("seunet", "resunet_se", "resunet++", "rcan", "dfcan", "stunet", "nafnet",
          "unext_v2")
# UNETR: a tiny ViT (4-pixel tokens) with a fixed input size, tiled at that size.
TINY_UNETR = {"vit_token_size": 4, "vit_embed_dim": 8, "vit_num_layers": 2, "vit_num_heads": 2,
              "unetr_vit_num_filters": 2}
# A tiny custom HRNet: 2 stages, 3 branches (the third at the second's resolution: YX_DOWN 1).
TINY_HRNET = {"variant": "custom", "num_stages": 2, "num_modules": [1, 1],
              "num_branches": [2, 3], "num_blocks": [[1, 1], [1, 1, 1]],
              "num_channels": [[4, 8], [4, 8, 16]], "z_down": [1, 1], "yx_down": [2, 1]}
# U-NeXt V2's global response normalisation pools too (it starts as the identity, so fresh
# models agree).
# Smallest sizes per network for the tiling test: resunet++ needs 3 levels, multiresunet
# filters of at least 4.
TILED = {("resunet++", 2): (4, 8, 16), ("resunet++", 3): (2, 4, 8), ("multiresunet", 3): (4, 8)}


def tiny(arch: str, ndim: int, cin: int = 1, cout: int = 1, **kw) -> torch.nn.Module:
    torch.manual_seed(0)
    kw.setdefault("feature_maps", SMALL)
    if arch == "stunet":  # a custom STU-Net of one block per stage, FEATURE_MAPS' widths
        dims = list(kw["feature_maps"])
        kw.update(stunet_variant="custom", stunet_dims=dims, stunet_depth=[1] * len(dims),
                  stunet_pool_op_kernel_sizes=[[2] * ndim] * (len(dims) - 1),
                  stunet_conv_kernel_sizes=[[3] * ndim] * len(dims))
    kw.setdefault("sr_filters", 8)
    kw.setdefault("sr_blocks", 2)
    kw.setdefault("rcan_rg_block_num", 2)
    kw.setdefault("rcan_rcab_block_num", 2)
    if arch == "unetr":
        kw = {**TINY_UNETR, "input_shape": [4, 8, 8] if ndim == 3 else [16, 16], **kw}
    if arch == "hrnet":
        kw.setdefault("hrnet", TINY_HRNET)
    if arch in ("unext_v1", "unext_v2"):  # 7x7 kernels: one block per level and no stem
        levels = len(kw["feature_maps"])  # pooling keep the halo, so the tiling test, small
        kw.setdefault("conv_layers", [1] * levels)
        kw.setdefault("convnext_stem_k_size", 1)
        if ndim == 3:
            kw.setdefault("z_down", [1] * (levels - 1))
    if arch == "nafnet":  # one NAF block per place; conv_layers is not NAFNet's
        kw.pop("conv_layers", None)
        for name in ("middle_blk_num", "enc_blk_nums", "dec_blk_nums"):
            kw.setdefault(f"nafnet_{name}", 1 if name == "middle_blk_num" else [1, 1])
    model = build_model(arch, ndim, cin, cout, **kw).eval()
    with torch.no_grad():  # NAF blocks start as the identity (beta = gamma = 0): make them act
        for name, p in model.named_parameters():
            if name.endswith(("beta", "gamma")):
                p.normal_(0, 0.5)
    return model


def test_architectures_agree_with_the_config():
    assert set(ARCHITECTURES) == set(CONFIG_ARCHITECTURES)
    assert not set(ARCHITECTURES) & set(NOT_BUILT)


@pytest.mark.parametrize(("arch", "ndim"), CASES)
def test_shape_through_the_tiler_for_sizes_off_the_divisor(arch, ndim):
    model = tiny(arch, ndim, 2, 3)
    shape = (6, 13, 19) if ndim == 3 else (13, 19)
    assert any(n % d for n, d in zip(shape, model.divisor, strict=True)) or arch in (
        "rcan", "edsr", "wdsr", "dfcan")
    image = np.random.default_rng(0).random((*shape, 2), dtype=np.float32)
    # resunet++ 3D: small tiles, as one tile padded by its ASPP's 60-voxel halo is 130^3
    tile = (8, 16, 16) if (arch, ndim) == ("resunet++", 3) else None
    assert predict_image(model, image, tile_shape=tile).shape == (*shape, 3)  # unetr: tiles
    assert all(0 < h <= r for h, r in zip(model.halo, model.receptive_field, strict=True))


# unetr has no whole-image prediction (a fixed input size): test_fixed_shape_tiles_...
# HRNet: its fixed stem stage (four 64-wide bottlenecks at 1/4 resolution) and its halo (53
# pixels for TINY_HRNET) make tiles every few pixels cost minutes; it has its own test below.
# U-NeXt in 3D: its 7x7x7 kernels make this test's 4-px tile steps take minutes; it is tiled
# along x only in tests/unit/test_unext.py.
# resunet++ in 3D: its squeeze-and-excitation makes it GLOBAL (one tile holding the whole
# image) and its ASPP's reach (60 voxels) would make that tile 480^3 voxels; its halo is
# checked without the SE, in 2D and 3D, by test_resunet_pp_tiles_equal_whole_without_se.
OWN_TILING_TEST = {("unext_v1", 3), ("unext_v2", 3), ("resunet++", 3)}


@pytest.mark.parametrize(("arch", "ndim"), [c for c in CASES if c[0] not in ("unetr", "hrnet")
                                            and c not in OWN_TILING_TEST])
def test_tiled_prediction_equals_whole_image(arch, ndim):
    """Tiles overlapping by 4 x halo: every tile that counts in the blend gives each pixel
    at least the halo's context, so tiled and whole-image predictions agree to 1e-4."""
    small = {"feature_maps": (4, 8), "sr_blocks": 1, "rcan_rcab_block_num": 1}
    if ndim == 3:  # 3D: smaller still, tiled along x only
        small.update(feature_maps=(2, 4), conv_layers=[1, 1], sr_filters=4, rcan_rg_block_num=1)
    if (arch, ndim) in TILED:
        fm = TILED[arch, ndim]
        small.update(feature_maps=fm, conv_layers=[1] * len(fm) if ndim == 3 else [])
    model = tiny(arch, ndim, **small)
    overlap = tuple(4 * h for h in model.halo)
    tile = tuple(-(-(o + 4) // d) * d for o, d in zip(overlap, model.divisor, strict=True))
    shape = tuple(t + t // 2 + 3 if ndim == 2 or a == 2 else t - 3 for a, t in enumerate(tile))
    if (arch, ndim) == ("multiresunet", 3):  # halo 11: thousands of tiles; one over z and y
        shape, tile, overlap = (4, 8, shape[2]), (4, 8, tile[2]), (0, 0, overlap[2])
    image = np.random.default_rng(1).random((*shape, 1), dtype=np.float32)
    whole = predict_image(model, image, tile_shape=None, overlap=overlap)
    if arch in GLOBAL:  # global attention: only one tile holding the whole image is the same
        tile = tuple(-(-(n + o) // d) * d for n, o, d in zip(shape, overlap, model.divisor,
                                                              strict=True))
    tiled = predict_image(model, image, tile_shape=tile, overlap=overlap)
    assert float(np.abs(tiled - whole).max()) <= 1e-4


@pytest.mark.parametrize(("ndim", "block", "head"), [
    (2, "BASIC", "FCN"), (3, "BASIC", "FCN"), (2, "BOTTLENECK", "ASPP"),
    (2, "CONVNEXT_V1", "FCN")])
def test_hrnet_tiled_prediction_equals_whole_image(ndim, block, head):
    """Tiles along x overlapping by 4 x halo, every 2 x overlap, the other axes one tile
    (no overlap): tiled and whole-image predictions agree to 1e-4 through the strided
    branches and their fusions. (PSP and OCR pool the whole input, as GRN does.)"""
    hr = dict(TINY_HRNET, yx_down=[2, 2], block_type=block, head_type=head)
    model = tiny("hrnet", ndim, hrnet=hr)
    o, d = 4 * model.halo[-1], model.divisor[-1]
    t = -(-2 * o // d) * d
    shape = (*model.divisor[:-1], t + t // 2 + 3)
    overlap = (0,) * (ndim - 1) + (o,)
    image = np.random.default_rng(1).random((*shape, 1), dtype=np.float32)
    whole = predict_image(model, image, tile_shape=None, overlap=overlap)
    tiled = predict_image(model, image, tile_shape=(*shape[:-1], t), overlap=overlap)
    assert float(np.abs(tiled - whole).max()) <= 1e-4


@pytest.mark.parametrize("ndim", [2, 3])
def test_resunet_pp_tiles_equal_whole_without_se(ndim):
    """resunet++'s halo (its ASPP's dilated reach included) holds all that matters: with its
    global squeeze-and-excitation taken out, tiles overlapping by 4 x halo give the whole
    image's prediction (3D: one tile over z and y, tiled along x)."""
    model = tiny("resunet++", ndim, feature_maps=(2, 4, 8), conv_layers=[1, 1, 1])
    model.se = torch.nn.ModuleList(torch.nn.Identity() for _ in model.se)
    overlap = tuple(4 * h for h in model.halo)  # tiles 1.5 x overlap: a few, not thousands
    tile = [-(-(o * 3 // 2) // d) * d for o, d in zip(overlap, model.divisor, strict=True)]
    shape = [t + 3 for t in tile]
    if ndim == 3:
        shape[:2], tile[:2], overlap = [4, 6], [4, 6], (0, 0, overlap[2])
    image = np.random.default_rng(2).random((*shape, 1), dtype=np.float32)
    whole = predict_image(model, image, tile_shape=None, overlap=overlap)
    tiled = predict_image(model, image, tile_shape=tile, overlap=overlap)
    assert float(np.abs(tiled - whole).max()) <= 1e-4


@pytest.mark.parametrize(("arch", "ndim"), CASES)
def test_checkpoint_round_trip(arch, ndim, tmp_path: Path):
    model = tiny(arch, ndim, 1, 2, normalization="bn")
    meta = {"architecture": arch, "ndim": ndim, "in_channels": 1, "out_channels": 2,
            "model_kwargs": model.spec.kwargs()}
    save_checkpoint(tmp_path / "m.pth", {"model": model.state_dict(), "meta": meta})
    loaded = model_from_checkpoint(load_checkpoint(tmp_path / "m.pth")).eval()
    x = torch.randn(1, 1, *((4, 8, 8) if ndim == 3 else (16, 16)))
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


@pytest.mark.parametrize("ndim", [2, 3])
def test_fixed_shape_tiles_equal_a_forward_per_tile(ndim):
    """A fixed-size network (unetr) predicts an image larger than its input tile by tile at
    that size, whatever tile is asked for; without overlap the tiles partition the image and
    each equals the network's own forward on it."""
    model = tiny("unetr", ndim)
    fixed = model.fixed_shape
    shape = tuple(f * n for f, n in zip(fixed, (2, 3, 2) if ndim == 3 else (3, 2), strict=False))
    image = np.random.default_rng(2).random((*shape, 1), dtype=np.float32)
    for tile in (None, tuple(2 * f for f in fixed)):
        tiled = predict_image(model, image, tile_shape=tile, overlap=(0,) * ndim)
        for start in itertools.product(*(range(0, n, f) for n, f in zip(shape, fixed,
                                                                         strict=True))):
            box = tuple(slice(s, s + f) for s, f in zip(start, fixed, strict=True))
            x = torch.from_numpy(np.moveaxis(image[box], -1, 0)[None].copy())
            with torch.no_grad():
                direct = np.moveaxis(model(x)[0].numpy(), 0, -1)
            assert float(np.abs(tiled[box] - direct).max()) <= 1e-4
    blended = predict_image(model, image[:-3], tile_shape=None)  # default overlap, off-grid
    assert blended.shape == (shape[0] - 3, *shape[1:], 1) and np.isfinite(blended).all()
    with pytest.raises(ValueError, match="fixed input size"):
        model(torch.zeros(1, 1, *(2 * f for f in fixed)))


def test_legacy_checkpoints_load_and_predict_the_same():
    saved = torch.load(Path(__file__).parent / "data" / "legacy_models.pt", weights_only=True)
    assert len(saved) == 8  # unet, resunet, attention_unet, rcan; 2D and 3D
    for case in saved.values():
        model = model_from_checkpoint({"meta": case["meta"], "model": case["model"]}).eval()
        with torch.no_grad():
            assert torch.equal(model(case["x"]), case["y"])


# BiaPy 3.7.1's own parameter counts, from its model classes built with 1 -> 1 channel,
# FEATURE_MAPS [32, 64, 128, 256], NORMALIZATION bn, BiaPy's defaults for the rest
# (RCAN_*: 16 filters, 10 groups of 20 blocks, reduction 16; EDSR, WDSR, DFCAN fixed;
# U-NeXt: CONV_LAYERS 2 per level, CONVNEXT_LAYER_SCALE 1e-6, CONVNEXT_STEM_K_SIZE 2).
BIAPY_PARAMETERS = {
    ("unet", 2): 1928289, ("resunet", 2): 2402273, ("attention_unet", 2): 1950362,
    ("seunet", 2): 1955425, ("resunet_se", 2): 3286593, ("rcan", 2): 963625,
    ("edsr", 2): 1256769, ("dfcan", 2): 1819969, ("wdsr", 2): 888962,
    ("unet", 3): 5602977, ("resunet", 3): 6636065, ("attention_unet", 3): 5625050,
    ("seunet", 3): 5630113, ("resunet_se", 3): 9474177, ("rcan", 3): 2858089,
    ("edsr", 3): 3765825, ("dfcan", 3): 5434945,
    # STU-Net: BiaPy's default MODEL.STUNET (VARIANT base); it reads no other MODEL key
    ("stunet", 2): 20445571, ("stunet", 3): 58158019,
    # unetr: BiaPy's defaults (custom ViT: 16-pixel tokens, 768 wide, 12 blocks of 12 heads,
    # MLP ratio 4; 16 decoder filters), patch 128x128 / 64x64x64 (the count does not depend
    # on it: BiaPy's position embedding is not trained)
    ("unetr", 2): 87242945, ("unetr", 3): 93018593,
    ("unext_v1", 2): 2212129, ("unext_v2", 2): 2221985,
    ("unext_v1", 3): 2974369, ("unext_v2", 3): 2984225,
    # multiresunet: BiaPy's fixed sizes (filters 32 to 512, alpha 1.67, Z_DOWN [2, 2, 2, 2])
    ("resunet++", 2): 3884227, ("multiresunet", 2): 7251074,
    ("resunet++", 3): 10903875, ("multiresunet", 3): 18645458,
}


@pytest.mark.parametrize(("arch", "ndim"), list(BIAPY_PARAMETERS))
def test_parameter_count_equals_biapy(arch, ndim):
    shape = {"input_shape": [128, 128] if ndim == 2 else [64] * 3} if arch == "unetr" else {}
    spec = ModelSpec(arch, ndim, 1, 1, feature_maps=[32, 64, 128, 256], normalization="bn",
                     **shape)
    with torch.device("meta"):  # sizes only, no memory for the weights
        model = build_model(biapy_layout(spec) if arch == "multiresunet" else spec)
    assert count_parameters(model) == BIAPY_PARAMETERS[arch, ndim]


# BiaPy 3.7.1's HighResolutionNet built with 1 -> 1 channel, NORMALIZATION bn, its variants
# as BiaPy's check_configuration sets them (Z_DOWN 1, YX_DOWN 2, BASIC blocks), FCN head.
# ASPP, PSP, OCR: BiaPy's count + 257 (the 1x1 convolution from its 256 features to 1 output).
BIAPY_HRNET_PARAMETERS = {
    ("W48", "FCN", 2): 65324689, ("W48", "FCN", 3): 194299153, ("W18", "FCN", 2): 9561379,
    ("W64", "FCN", 3): 344402817, ("W48", "ASPP", 2): 70499776 + 257,
    ("W48", "PSP", 3): 195484736 + 257, ("W48", "OCR", 2): 67313857 + 257,
}


@pytest.mark.parametrize(("variant", "head", "ndim"), list(BIAPY_HRNET_PARAMETERS))
def test_hrnet_parameter_count_equals_biapy(variant, head, ndim):
    with torch.device("meta"):  # no memory for the weights
        model = build_model("hrnet", ndim, 1, 1, normalization="bn",
                            hrnet={"variant": variant, "head_type": head})
    assert count_parameters(model) == BIAPY_HRNET_PARAMETERS[variant, head, ndim]
    assert model.divisor == ((1, 32, 32) if ndim == 3 else (32, 32))


@pytest.mark.parametrize("block", ["BASIC", "BOTTLENECK", "CONVNEXT_V1", "CONVNEXT_V2"])
@pytest.mark.parametrize("head", ["FCN", "ASPP", "PSP", "OCR"])
def test_hrnet_blocks_and_heads(block, head):
    model = tiny("hrnet", 2, 1, 3, hrnet=dict(TINY_HRNET, block_type=block, head_type=head),
                 heads=[1, 2], normalization="bn")
    with torch.no_grad():
        assert model(torch.randn(2, 1, 16, 24)).shape == (2, 3, 16, 24)
    assert [h.out_channels for h in model.heads] == [1, 2]
    widths = [m.out_channels for m in model.stages[-1][-1].branches[-1].modules()
              if isinstance(m, torch.nn.Conv2d)]
    assert widths[-1] == 16 * (4 if block == "BOTTLENECK" else 1)


def test_hrnet_invalid_arguments():
    with pytest.raises(ValueError, match="num_blocks"):
        tiny("hrnet", 2, hrnet=dict(TINY_HRNET, num_blocks=[[1, 1], [1, 1]]))
    with pytest.raises(ValueError, match="num_modules"):
        tiny("hrnet", 2, hrnet=dict(TINY_HRNET, num_modules=[1]))
    with pytest.raises(ValueError, match="z_down"):
        tiny("hrnet", 3, hrnet=dict(TINY_HRNET, z_down=[1, 3]))
    with pytest.raises(ValueError, match="2D only"):
        tiny("hrnet", 3, hrnet=dict(TINY_HRNET, head_type="OCR"))
    with pytest.raises(ValueError, match="variant"):
        tiny("hrnet", 2, hrnet={"variant": "W40"})


def test_resunet_pp_separated_decoders_count_equals_biapy():
    """BiaPy's count with heads [1, 2], divided separated decoders, LARGER_IO, upsampling."""
    model = build_model("resunet++", 2, 1, 3, feature_maps=[32, 64, 128, 256],
                        normalization="bn", upsample_layer="upsampling", heads=[1, 2],
                        separated_decoders=True, divide_feature_maps=True, larger_io=True)
    assert count_parameters(model) == 4058999


def test_receptive_field_is_exact():
    torch.manual_seed(0)
    model = build_model("unet", 2, 1, 1, feature_maps=SMALL).double().eval()
    x = torch.randn(1, 1, 96, 96, dtype=torch.float64)
    reach = 0
    for row in range(48, 48 + model.divisor[0]):  # every phase of the pooling grid
        x2 = x.clone()
        x2[0, 0, row] += 10.0
        with torch.no_grad():
            changed = (model(x2) - model(x)).abs().amax(dim=(0, 1, 3)) > 1e-12
        reach = max(reach, int((torch.nonzero(changed).flatten() - row).abs().max()))
    assert reach == model.receptive_field[0] == 23


def test_hrnet_receptive_field_is_exact():
    """Through the strided branches, the interpolations (whose grid sits (r - 1) / 2 pixels
    off the strided convolutions') and the fusions."""
    model = tiny("hrnet", 2).double()
    x = torch.randn(1, 1, 8, 256, dtype=torch.float64)
    reach = 0
    with torch.no_grad():
        y = model(x)
        for col in range(128, 128 + model.divisor[1]):
            x2 = x.clone()
            x2[0, 0, :, col] += 10.0
            changed = (model(x2) - y).abs().amax(dim=(0, 1, 2)) > 1e-12
            reach = max(reach, int((torch.nonzero(changed).flatten() - col).abs().max()))
    assert reach == model.receptive_field[1] == 76


@pytest.mark.parametrize("arch", ["resunet++", "multiresunet"])
def test_receptive_field_of_resunet_pp_and_multiresunet(arch):
    """Measured reach of a pixel: resunet++'s (SE taken out) is its receptive field, ASPP's
    dilated taps included; multiresunet's ReLUs leave some paths dead at initialisation."""
    torch.manual_seed(0)
    model = build_model(arch, 2, 1, 1, feature_maps=SMALL).double().eval()
    if arch == "resunet++":
        model.se = torch.nn.ModuleList(torch.nn.Identity() for _ in model.se)
    n = -(-(2 * model.receptive_field[0] + 40) // model.divisor[0]) * model.divisor[0]
    x = torch.randn(1, 1, n, 16, dtype=torch.float64)
    reach = 0
    for row in range(n // 2, n // 2 + model.divisor[0]):  # every phase of the pooling grid
        x2 = x.clone()
        x2[0, 0, row] += 10.0
        with torch.no_grad():
            changed = (model(x2) - model(x)).abs().amax(dim=(0, 1, 3)) > 1e-12
        reach = max(reach, int((torch.nonzero(changed).flatten() - row).abs().max()))
    if arch == "resunet++":
        assert reach == model.receptive_field[0] == model.halo[0] == 63
    else:
        assert model.halo[0] <= reach <= model.receptive_field[0] == 33


def test_anisotropic_3d_and_unet_keys():
    model = tiny("resunet", 3, feature_maps=(4, 8, 16, 32), z_down=[1, 2, 2])
    assert model.divisor == (4, 8, 8) and model.halo[0] < model.halo[1] == model.halo[2]
    flat = tiny("unet", 3, isotropy=[False, True, True], yx_down=[2, 1])
    assert flat.divisor == (4, 2, 2)
    assert flat.encoders[0][0][0].kernel_size == (1, 3, 3)
    assert flat.encoders[1][0][0].kernel_size == (3, 3, 3)
    five = tiny("unet", 2, kernel_size=5, conv_layers=[1, 3, 2], activation="relu")
    assert five.encoders[0][0][0].kernel_size == (5, 5) and len(five.encoders[1]) == 3
    assert isinstance(five.encoders[0][0][1], torch.nn.Identity)
    assert isinstance(five.encoders[0][0][2], torch.nn.ReLU)
    big = tiny("unet", 2, larger_io=True, upsample_layer="upsampling")
    assert big.conv_in[0][0].kernel_size == (5, 5)
    assert isinstance(big.ups[0][0][0][0], torch.nn.Upsample)
    with torch.no_grad():
        assert big(torch.randn(1, 1, 16, 16)).shape == (1, 1, 16, 16)


@pytest.mark.parametrize("norm", ["bn", "sync_bn", "in", "gn", "ln", "none", "BN"])
def test_normalizations(norm):
    model = build_model("unet", 2, 1, 1, feature_maps=SMALL, normalization=norm,
                        dropout=[0.1, 0.2, 0.3])
    assert model(torch.randn(2, 1, 16, 16)).shape == (2, 1, 16, 16)


@pytest.mark.parametrize("arch", ["unet", "resunet", "attention_unet", "seunet", "resunet_se",
                                  "resunet++"])
def test_heads_and_separated_decoders(arch):
    shared = tiny(arch, 2, 1, 3, heads=[1, 2])
    assert [h.out_channels for h in shared.heads] == [1, 2] and len(shared.decoders) == 1
    split = tiny(arch, 2, 1, 3, heads=[1, 2], separated_decoders=True, divide_feature_maps=True)
    assert len(split.decoders) == 2 and split.heads[0].in_channels == SMALL[0] // 2
    with torch.no_grad():
        assert split(torch.randn(1, 1, 16, 16)).shape == (1, 3, 16, 16)
    with pytest.raises(ValueError, match="add up"):
        tiny(arch, 2, 1, 3, heads=[1, 1])


def test_multiresunet_heads_share_its_one_decoder():
    model = tiny("multiresunet", 2, 1, 3, heads=[1, 2])
    assert [h.out_channels for h in model.heads] == [1, 2]
    with torch.no_grad():
        assert model(torch.randn(1, 1, 16, 16)).shape == (1, 3, 16, 16)
    with pytest.raises(ValueError, match="separated_decoders"):
        tiny("multiresunet", 2, 1, 3, heads=[1, 2], separated_decoders=True)


# WDSR's weight-normalised convolutions have no all-zero weights (their direction is undefined);
# NAFNet always adds its input (BiaPy's), here without the GAN output's sigmoid.
@pytest.mark.parametrize("arch", [a for a in ARCHITECTURES if a != "wdsr"])
def test_residual_adds_input(arch):
    model = tiny(arch, 2, 2, 2, residual=True, nafnet_output_sigmoid=False)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        x = torch.randn(1, 2, 16, 16)
        assert torch.equal(model(x), x)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="in_channels == out_channels"):
        build_model("unet", 2, 1, 2, residual=True)
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("vit", 2, 1, 1)
    with pytest.raises(ValueError, match="ndim"):
        build_model("unet", 4, 1, 1)
    with pytest.raises(ValueError, match="2D only"):
        build_model("wdsr", 3, 1, 1)
    with pytest.raises(ValueError, match="z_down"):
        build_model("unet", 3, 1, 1, feature_maps=SMALL, z_down=[1, 2, 2])
    with pytest.raises(ValueError, match="conv_layers"):
        build_model("unet", 2, 1, 1, feature_maps=SMALL, conv_layers=[2, 2])
    with pytest.raises(ValueError, match="multiple"):
        build_model("unet", 2, 1, 1, feature_maps=SMALL)(torch.randn(1, 1, 16, 18))
    assert isinstance(ModelSpec("unet", 2, 1, 1).kwargs()["version"], int)
