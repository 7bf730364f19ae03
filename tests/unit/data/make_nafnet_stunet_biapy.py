"""Writes nafnet_stunet_biapy.pt: BiaPy 3.7.1's NAFNet GAN with ``GENERATOR_BACKBONE: stunet``,
built by its own ``build_model`` from a config (GANGeneratorWrapper around its STUNet, the
PatchGAN beside it), for two tiny custom layouts: the weights in state-dict order, an input,
the prediction, its input gradient and (2D) the discriminator's weights and output; and the
parameter counts of BiaPy's default ``MODEL.STUNET`` (base) with the default PatchGAN. Run
with BiaPy's Python (it imports biapy), not in the tests:
``/tmp/perfq/biapy-venv/bin/python tests/unit/data/make_nafnet_stunet_biapy.py``."""

import contextlib
import io
from pathlib import Path

import torch
from biapy.config.config import Config
from biapy.models import build_model

LAYOUTS = {
    "2d": ({"DEPTH": [1, 2, 1], "DIMS": [4, 8, 8], "POOL_OP_KERNEL_SIZES": [[2, 2], [1, 2]],
            "CONV_KERNEL_SIZES": [[3, 3], [5, 3], [1, 3]]}, (32, 32, 2), [1, 2]),
    "3d": ({"DEPTH": [2, 1], "DIMS": [4, 6], "POOL_OP_KERNEL_SIZES": [[1, 2, 2]],
            "CONV_KERNEL_SIZES": [[1, 3, 3], [3, 3, 3]]}, (4, 8, 8, 1), [2]),
}


def gan(patch: tuple[int, ...], heads: list[int], stunet: dict | None = None,
        base_filters: int = 4) -> torch.nn.Module:
    cfg = Config("/tmp", "nafnet_stunet").get_cfg_defaults()
    cfg.PROBLEM.TYPE, cfg.PROBLEM.NDIM = "IMAGE_TO_IMAGE", f"{len(patch) - 1}D"
    cfg.DATA.PATCH_SIZE = patch
    cfg.MODEL.ARCHITECTURE = "nafnet"
    cfg.MODEL.NAFNET.GENERATOR_BACKBONE = "stunet"
    cfg.MODEL.NAFNET.PATCHGAN.BASE_FILTERS = base_filters
    if stunet:
        cfg.MODEL.STUNET.VARIANT = "custom"
        for key, value in stunet.items():
            setattr(cfg.MODEL.STUNET, key, value)
    info = [f"pred{i}" for i in range(len(heads))]
    with contextlib.redirect_stdout(io.StringIO()):  # build_model prints a summary
        return build_model(cfg, heads, info, ["linear"] * sum(heads), torch.device("cpu"))[0]


if __name__ == "__main__":
    torch.manual_seed(0)
    saved = {}
    for name, (stunet, patch, heads) in LAYOUTS.items():
        model = gan(patch, heads, stunet).eval()
        for p in model.parameters():  # the norms' affine weights away from 1 and 0 too
            torch.nn.init.normal_(p, std=0.3)
        x = torch.randn(1, patch[-1], *patch[:-1], requires_grad=True)
        y = model(x)["pred"]
        weights = torch.randn_like(y)
        (grad,) = torch.autograd.grad((y * weights).sum(), x)
        with torch.no_grad():
            d_y = model.discriminator(y) if name == "2d" else None
        state = model.state_dict()
        saved[name] = {
            "generator": [t.clone() for k, t in state.items() if k.startswith("generator.")],
            "discriminator": [t.clone() for k, t in state.items()
                              if k.startswith("discriminator.") and name == "2d"],
            "x": x.detach(), "y": y.detach(), "weights": weights, "grad": grad, "d_y": d_y}
    counts = {}
    for ndim, patch in ((2, (32, 32, 1)), (3, (32, 32, 32, 1))):
        model = gan(patch, [1], base_filters=64)
        generator = sum(p.numel() for p in model.generator.parameters())
        counts[ndim] = (generator, sum(p.numel() for p in model.discriminator.parameters()))
    saved["counts"] = counts
    print(counts, {k: float(v["y"].std()) for k, v in saved.items() if k != "counts"})
    torch.save(saved, Path(__file__).with_name("nafnet_stunet_biapy.pt"))
