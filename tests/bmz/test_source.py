"""The architecture file is written from the networks' own modules, however they are split."""

import ast
import sys
import textwrap

import pytest
import torch

from i2i_nb.bmz.source import ENTRY, BundleError, architecture_source, check_source
from i2i_nb.models import ARCHITECTURES, build_model

FILES = {
    "__init__.py": """
        from .factory import build_model
        __all__ = ["build_model"]
    """,
    "common.py": """
        from torch import nn

        def _conv(cin, cout):
            return nn.Conv2d(cin, cout, 3, padding=1)

        SCALE = 2.0
    """,
    "blocks.py": """
        import torch
        from torch import nn
        from fakenets.common import _conv as conv3

        SCALE = 3.0  # the same name as in common, another value

        def _conv(cin, cout):  # the same name as in common, another layer
            return nn.Conv2d(cin, cout, 1)

        class Block(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.a, self.b = conv3(c, c), _conv(c, c)

            def forward(self, x):
                return torch.relu(self.b(self.a(x))) * SCALE
    """,
    "factory.py": '''
        """A factory as i2i_nb.models has one."""
        from __future__ import annotations

        from torch import nn

        from . import blocks as b
        from .common import SCALE, _conv

        def build_model(architecture, ndim, in_channels, out_channels, width=4):
            net = nn.Sequential(_conv(in_channels, width), b.Block(width),
                                _conv(width, out_channels))
            net.scale = SCALE
            return net

        if __name__ == "__main__":
            print("not bundled")
    ''',
}


@pytest.fixture
def fakenets(tmp_path, monkeypatch):
    package = tmp_path / "fakenets"
    package.mkdir()
    for name, text in FILES.items():
        (package / name).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for name in [m for m in sys.modules if m.split(".")[0] == "fakenets"]:
        del sys.modules[name]


def test_split_package_with_clashing_names_is_bundled(fakenets):
    from fakenets import build_model as fake_build

    source = architecture_source(fake_build)
    imported = {n.module for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)}
    assert not any("fakenets" in (m or "") for m in imported) and "__main__" not in source
    kwargs = {"architecture": "x", "ndim": 2, "in_channels": 2, "out_channels": 1, "width": 4}
    model = fake_build(**kwargs).eval()
    assert check_source(source, kwargs, model, torch.randn(1, 2, 8, 8)) == 0.0


def test_other_imports_are_refused(fakenets):
    (fakenets / "common.py").write_text("import numpy\n" + (fakenets / "common.py").read_text())
    from fakenets import build_model as fake_build

    with pytest.raises(BundleError, match="imports numpy"):
        architecture_source(fake_build)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_network_of_i2i_nb_is_rebuilt_from_the_file(architecture):
    source = architecture_source()
    assert f"def {ENTRY}(" in source
    for ndim in (2,) if architecture == "wdsr" else (2, 3):  # wdsr is 2D only, as in BiaPy
        kwargs = {"architecture": architecture, "ndim": ndim, "in_channels": 2,
                  "out_channels": 1, "normalization": "in",
                  "feature_maps": [4, 8, 16] if architecture == "resunet++" else [4, 8]}
        if architecture == "stunet":  # it reads its own keys: a custom one as small
            kwargs.update(stunet_variant="custom", stunet_depth=[1, 2], stunet_dims=[4, 8],
                          stunet_pool_op_kernel_sizes=[[2] * ndim],
                          stunet_conv_kernel_sizes=[[3] * ndim] * 2)
        size = 8
        if architecture == "unetr":  # a tiny ViT, for the fixed input size of the example
            kwargs |= {"input_shape": [8] * ndim, "vit_token_size": 4, "vit_embed_dim": 8,
                       "vit_num_layers": 2, "vit_num_heads": 2, "unetr_vit_num_filters": 2}
        if architecture == "hrnet":  # a tiny custom one (W48 has 65M parameters)
            kwargs["hrnet"] = {"variant": "custom", "num_stages": 1, "num_modules": [1],
                               "num_branches": [2], "num_blocks": [[1, 1]],
                               "num_channels": [[4, 8]], "block_type": "CONVNEXT_V2",
                               "head_type": "ASPP"}
            size = 16
        model = build_model(**kwargs).eval()
        example = torch.randn(1, 2, *[size] * ndim)
        assert check_source(source, kwargs, model, example) == 0.0
