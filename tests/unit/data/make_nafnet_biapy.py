"""BiaPy 3.7.1's NAFNet + PatchGAN outputs and GAN losses: tests/unit/data/nafnet_biapy.pt, the
reference of tests/unit/test_gan.py. Run with a Python that has biapy 3.7.1 installed:
``python tests/unit/data/make_nafnet_biapy.py`` (writes /tmp/nafnet_biapy.pt)."""

import torch
from biapy.engine.metrics import CycleGanLoss
from biapy.models.nafnet import NAFNet
from yacs.config import CfgNode


def net(nd: int, cin: int, cout: int) -> NAFNet:
    torch.manual_seed(0)
    m = NAFNet(img_channel=cin, ndim=nd, feature_maps=[4, 8, 16], drop_values=[0.0] * 3,
               middle_blk_num=2, enc_blk_nums=[1, 2], dec_blk_nums=[2, 1], z_down=[1, 2],
               yx_down=[2, 2], isotropy=[False, True, True] if nd == 3 else True,
               larger_io=True, discriminator_arch="patchgan", patchgan_base_filters=4,
               out_channels=cout)
    with torch.no_grad():
        for n, p in m.named_parameters():
            if n.endswith(("beta", "gamma")):
                p.normal_(0, 0.5)  # zero at start: make the blocks count
    return m


def generator_state(m: NAFNet) -> dict:
    return {k: v.clone() for k, v in m.state_dict().items() if not k.startswith("discriminator.")}


out = {}
m = net(3, 1, 1).eval()
x = torch.randn(1, 1, 8, 16, 16)
with torch.no_grad():
    out["3d"] = {"generator": generator_state(m), "x": x, "y": m(x)["pred"]}
m = net(2, 2, 1)
torch.manual_seed(1)
x, target = torch.randn(2, 2, 32, 32), torch.rand(2, 1, 32, 32)
ref = {"generator": generator_state(m), "x": x, "target": target,
       "discriminator": {k: v.clone() for k, v in m.discriminator.state_dict().items()}}
m.eval()
with torch.no_grad():
    ref["y"] = m(x)["pred"]
    ref["d_y"] = m.discriminator(ref["y"])
m.train()
losses = {}
for name, types, weights, r1, adaptive in (("bce", ["MAE", "BCE"], [1.0, 0.1], 0.0, False),
                                           ("hinge", ["MSE", "HINGE"], [2.0, 0.5], 1.0, True)):
    m.load_state_dict({**ref["generator"],
                       **{"discriminator." + k: v for k, v in ref["discriminator"].items()}})
    cfg = CfgNode({"LOSS": CfgNode({"TYPE": types, "WEIGHTS": weights, "GAN": CfgNode(
        {"R1_GAMMA": r1, "ADAPTIVE_GAN_WEIGHT": adaptive})})})
    g, d = m.forward_loss(m(x)["pred"], target, CycleGanLoss(cfg, torch.device("cpu")))
    losses[name] = (g.item(), d.item())
ref["losses"] = losses
out["2d"] = ref
torch.save(out, "/tmp/nafnet_biapy.pt")
print(losses)
