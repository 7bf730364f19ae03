"""Writes biapy_unetr.pt: BiaPy 3.7.1's UNETR, tiny, 2D and 3D, with its weights, an input and
its output, for tests/unit/test_unetr.py. Run with BiaPy's Python (biapy 3.7.1 installed):
``python tests/unit/data/make_biapy_unetr.py``."""

from pathlib import Path

import torch
from biapy.models.unetr import UNETR

SIZES = {"patch_size": 4, "embed_dim": 8, "depth": 2, "num_heads": 2, "mlp_ratio": 2.0,
         "num_filters": 2, "ViT_hidd_mult": 1, "decoder_activation": "elu",
         "normalization": "bn", "k_size": 3}

cases = {}
for ndim, shape in ((2, (8, 8, 2)), (3, (8, 8, 8, 1))):
    torch.manual_seed(ndim)
    model = UNETR(input_shape=shape, output_channels=[3], output_channel_info=["F"],
                  **SIZES).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))  # biases and norms away from their defaults
        model.pos_embed.zero_()  # BiaPy's (never filled) position embedding
        x = torch.randn(2, shape[-1], *shape[:-1])
        cases[ndim] = {"state": model.state_dict(), "x": x, "y": model(x), "sizes": SIZES}
torch.save(cases, Path(__file__).with_name("biapy_unetr.pt"))
