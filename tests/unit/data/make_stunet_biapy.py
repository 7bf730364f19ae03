"""Writes stunet_biapy.pt: BiaPy 3.7.1's STUNet outputs for two tiny custom layouts, with the
weights in state-dict order. Run with BiaPy's Python (it imports biapy), not in the tests:
``/tmp/perfq/biapy-venv/bin/python tests/unit/data/make_stunet_biapy.py``."""

from pathlib import Path

import torch
from biapy.models.stunet import build_stunet

LAYOUTS = {
    "2d": ({"image_shape": (16, 16, 2), "output_channels": [1, 2], "depth": [1, 2, 1],
            "dims": [4, 8, 8], "pool_op_kernel_sizes": [[2, 2], [1, 2]],
            "conv_kernel_sizes": [[3, 3], [5, 3], [1, 3]]}, (2, 2, 16, 16)),
    "3d": ({"image_shape": (4, 8, 8, 1), "output_channels": [2], "depth": [2, 1],
            "dims": [4, 6], "pool_op_kernel_sizes": [[1, 2, 2]],
            "conv_kernel_sizes": [[1, 3, 3], [3, 3, 3]]}, (1, 1, 4, 8, 8)),
}

if __name__ == "__main__":
    torch.manual_seed(0)
    saved = {}
    for name, (kwargs, shape) in LAYOUTS.items():
        info = [f"pred{i}" for i in range(len(kwargs["output_channels"]))]
        model = build_stunet("custom", output_channel_info=info, deep_supervision=False,
                             pretrained=False, **kwargs).eval()
        for p in model.parameters():  # the norms' affine weights away from 1 and 0 too
            torch.nn.init.normal_(p, std=0.3)
        x = torch.randn(*shape)
        with torch.no_grad():
            y = model(x)
        saved[name] = {"state": [t.clone() for t in model.state_dict().values()], "x": x,
                       "y": y}
    torch.save(saved, Path(__file__).with_name("stunet_biapy.pt"))
