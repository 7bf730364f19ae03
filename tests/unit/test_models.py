import pytest
import torch

from i2i_nb.models import ARCHITECTURES, build_model, count_parameters

SMALL = (4, 8, 16)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("ndim", [2, 3])
def test_forward_shape_and_geometry(arch, ndim):
    z_down = [1, 2] if ndim == 3 else None
    model = build_model(arch, ndim, 1, 2, feature_maps=SMALL, z_down=z_down).eval()
    spatial = (8, 16, 24) if ndim == 3 else (16, 24)
    with torch.no_grad():
        y = model(torch.randn(2, 1, *spatial))
    assert y.shape == (2, 2, *spatial)
    assert model.ndim == ndim
    expected = (1,) * ndim if arch == "rcan" else ((2, 4, 4) if ndim == 3 else (4, 4))
    assert model.divisor == expected
    assert all(0 < h <= r for h, r in zip(model.halo, model.receptive_field, strict=True))


def test_anisotropic_3d_divisor_and_halo():
    model = build_model("resunet", 3, 1, 2, feature_maps=(4, 8, 16, 32), z_down=[1, 2, 2])
    assert model.divisor == (4, 8, 8)
    assert model.halo[0] < model.halo[1] == model.halo[2]
    with torch.no_grad():
        assert model.eval()(torch.randn(1, 1, 4, 16, 24)).shape == (1, 2, 4, 16, 24)


def test_size_not_multiple_of_divisor_is_refused():
    model = build_model("unet", 2, 1, 1, feature_maps=SMALL)
    with pytest.raises(ValueError, match="multiple"):
        model(torch.randn(1, 1, 16, 18))


@pytest.mark.parametrize("arch", ["unet", "resunet", "attention_unet"])
def test_receptive_field_is_exact(arch):
    torch.manual_seed(0)
    model = build_model(arch, 2, 1, 1, feature_maps=SMALL).double().eval()
    x = torch.randn(1, 1, 96, 96, dtype=torch.float64)
    reach = 0
    for row in range(48, 48 + model.divisor[0]):  # every phase of the pooling grid
        x2 = x.clone()
        x2[0, 0, row] += 10.0
        with torch.no_grad():
            changed = (model(x2) - model(x)).abs().amax(dim=(0, 1, 3)) > 1e-12
        reach = max(reach, int((torch.nonzero(changed).flatten() - row).abs().max()))
    assert reach == model.receptive_field[0] == 23


@pytest.mark.parametrize("norm", ["bn", "in", "gn", "none", "BN"])
def test_normalizations(norm):
    model = build_model("unet", 2, 1, 1, feature_maps=SMALL, normalization=norm,
                        dropout=[0.1, 0.2, 0.3])
    assert model(torch.randn(2, 1, 16, 16)).shape == (2, 1, 16, 16)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_residual_adds_input(arch):
    model = build_model(arch, 2, 2, 2, feature_maps=SMALL, residual=True).eval()
    last = model.head if arch != "rcan" else model.tail
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.zeros_(last.bias)
    x = torch.randn(1, 2, 16, 16)
    with torch.no_grad():
        assert torch.equal(model(x), x)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="in_channels == out_channels"):
        build_model("unet", 2, 1, 2, residual=True)
    with pytest.raises(ValueError, match="unet, resunet, attention_unet, rcan"):
        build_model("vit", 2, 1, 1)
    with pytest.raises(ValueError, match="ndim"):
        build_model("unet", 4, 1, 1)
    with pytest.raises(ValueError, match="z_down"):
        build_model("unet", 3, 1, 1, feature_maps=SMALL, z_down=[1, 2, 2])
    with pytest.raises(ValueError, match="z_down"):
        build_model("unet", 3, 1, 1, feature_maps=SMALL, z_down=[1, 3])
    with pytest.raises(ValueError, match="normalization"):
        build_model("unet", 2, 1, 1, normalization="ln")
    with pytest.raises(ValueError, match="dropout"):
        build_model("unet", 2, 1, 1, feature_maps=SMALL, dropout=[0.1])


def test_case_insensitive_and_count_parameters():
    model = build_model("ResUNet", 2, 1, 1, feature_maps=SMALL)
    assert count_parameters(model) == sum(p.numel() for p in model.parameters()) > 0
