"""NAFNet's GAN training: the networks and losses equal BiaPy 3.7.1's, a step moves both."""

from pathlib import Path

import pytest
import torch

from i2i_nb.config import LossConfig, TrainConfig
from i2i_nb.config.train import DiscriminatorTrainConfig, GanLossConfig, LRSchedulerConfig
from i2i_nb.finetune import StartingPoint
from i2i_nb.gan import GanLoss, GanStepper, build_gan_loss, fake_image
from i2i_nb.losses import build_loss
from i2i_nb.models import build_model, count_parameters
from i2i_nb.models.patchgan import PatchGAN, build_discriminator

# Made by tests/unit/data/make_nafnet_biapy.py with BiaPy 3.7.1's own classes.
REFERENCE = torch.load(Path(__file__).parent / "data" / "nafnet_biapy.pt", weights_only=True)
SMALL = {"feature_maps": [4, 8, 16], "nafnet_middle_blk_num": 2, "nafnet_enc_blk_nums": [1, 2],
         "nafnet_dec_blk_nums": [2, 1], "larger_io": True, "nafnet_patchgan_base_filters": 4}


def biapy_names(state: dict) -> dict:
    return {k.replace("middle_blks.", "middle.").replace("skip_proj", "skip"): v
            for k, v in state.items()}


def reference_nets() -> tuple[torch.nn.Module, torch.nn.Module, dict]:
    ref = REFERENCE["2d"]
    generator = build_model("nafnet", 2, 2, 1, **SMALL)
    generator.load_state_dict(biapy_names(ref["generator"]))
    discriminator = build_discriminator(generator.spec)
    discriminator.load_state_dict(ref["discriminator"])
    return generator, discriminator, ref


def test_networks_equal_biapy_in_2d_and_3d():
    generator, discriminator, ref = reference_nets()
    flat = build_model("nafnet", 3, 1, 1, **SMALL, z_down=[1, 2], isotropy=[False, True, True])
    flat.load_state_dict(biapy_names(REFERENCE["3d"]["generator"]))
    with torch.no_grad():
        y = generator.eval()(ref["x"])
        assert float((y - ref["y"]).abs().max()) < 1e-5
        assert float((discriminator.eval()(y) - ref["d_y"]).abs().max()) < 1e-5
        y3 = flat.eval()(REFERENCE["3d"]["x"])
        assert float((y3 - REFERENCE["3d"]["y"]).abs().max()) < 1e-5


@pytest.mark.parametrize(("kind", "types", "weights", "options"), [
    ("bce", ["MAE", "BCE"], [1.0, 0.1], GanLossConfig()),
    ("hinge", ["MSE", "HINGE"], [2.0, 0.5], GanLossConfig(r1_gamma=1.0, adaptive_gan_weight=True)),
])
def test_gan_losses_equal_biapy(kind, types, weights, options):
    """BiaPy's NAFNet.forward_loss with CycleGanLoss (R1 penalty and adaptive weight too)."""
    generator, discriminator, ref = reference_nets()
    loss = build_gan_loss(LossConfig(types, weights, options), 2, discriminator.train())
    fake = fake_image(generator.train()(ref["x"]))
    loss_g = loss.generator_loss(fake, ref["target"], generator.last_layer())
    loss_d = loss.discriminator_loss(fake, ref["target"])
    want_g, want_d = ref["losses"][kind]
    assert loss_g.item() == pytest.approx(want_g, rel=1e-5)
    assert loss_d.item() == pytest.approx(want_d, rel=1e-5)


def test_parameter_counts_equal_biapy_defaults():
    """BiaPy 3.7.1's default NAFNet (FEATURE_MAPS [16, 32, 64, 128, 256], MODEL.NAFNET's
    defaults, 1 -> 1 channel) and PatchGAN (BASE_FILTERS 64), counted with its classes."""
    counts = {2: (7371345, 2764481), 3: (7897489, 11049665)}
    for ndim, (generator, patchgan) in counts.items():
        model = build_model("nafnet", ndim, 1, 1, feature_maps=[16, 32, 64, 128, 256])
        assert count_parameters(model) == generator
        assert count_parameters(build_discriminator(model.spec)) == patchgan


def _train_config() -> TrainConfig:
    return TrainConfig(lr=1e-3, optimizer="adamw", amp=False,
                       lr_scheduler=LRSchedulerConfig(name="none"),
                       discriminator=DiscriminatorTrainConfig(optimizer="adam", lr=2e-3))


def test_a_step_updates_generator_and_discriminator():
    torch.manual_seed(0)
    generator = build_model("nafnet", 2, 1, 1, feature_maps=[4, 8], nafnet_middle_blk_num=1)
    discriminator = PatchGAN(2, 1, 4)
    loss = GanLoss(build_loss("mae", 2), discriminator, "bce", 0.1)
    step = GanStepper(generator, _train_config(), loss, 1, torch.device("cpu"))
    g0 = [p.detach().clone() for p in generator.parameters()]
    d0 = [p.detach().clone() for p in discriminator.parameters()]
    x, y = torch.randn(2, 1, 32, 32), torch.rand(2, 1, 32, 32)
    with torch.no_grad():  # the loss the step reports is the generator's before it moves
        before = loss.generator_loss(fake_image(generator.train()(x)), y)
    assert step(x, y).item() == pytest.approx(before.item(), rel=1e-6)
    assert any(not torch.equal(a, b) for a, b in zip(g0, generator.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(d0, discriminator.parameters(), strict=True))
    assert step.d_optimizer.param_groups[0]["lr"] == 2e-3
    assert type(step.d_optimizer).__name__ == "Adam"
    assert all(p.requires_grad for p in discriminator.parameters())  # unfrozen after the step
    record = step.epoch_record()
    assert record["loss_discriminator"] > 0 and step.d_batches == 0


def test_discriminator_state_round_trip():
    torch.manual_seed(0)
    generator = build_model("nafnet", 2, 1, 1, feature_maps=[4, 8], nafnet_middle_blk_num=1)
    loss = GanLoss(None, PatchGAN(2, 1, 4), "hinge", 1.0)
    step = GanStepper(generator, _train_config(), loss, 1, torch.device("cpu"))
    step(torch.randn(2, 1, 32, 32), torch.rand(2, 1, 32, 32))
    saved = {**step.networks_state(), **step.training_state()}
    torch.manual_seed(1)
    other = GanStepper(generator, _train_config(), GanLoss(None, PatchGAN(2, 1, 4), "hinge", 1.0),
                       1, torch.device("cpu"))
    other.load_state(saved)
    for a, b in zip(step.discriminator.state_dict().values(),
                    other.discriminator.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert other.d_optimizer.state_dict()["state"].keys() == saved["optimizer_d"]["state"].keys()


def test_validation_loss_leaves_the_discriminator_in_training_mode():
    discriminator = PatchGAN(2, 1, 4).train()
    loss = GanLoss(build_loss("mae", 2), discriminator, "bce", 1.0)
    with torch.inference_mode():
        value = loss(torch.rand(2, 1, 32, 32), torch.rand(2, 1, 32, 32))
    assert torch.isfinite(value) and discriminator.training


def test_starting_checkpoint_gives_the_discriminator_and_its_optimiser(tmp_path):
    payload = {"meta": {}, "model": {}, "discriminator": {"w": torch.ones(1)},
               "optimizer_d": {"state": {}, "param_groups": []}}
    state = StartingPoint(tmp_path, payload, frozenset({"weights", "optimizer"})).initial_state()
    assert set(state) == {"discriminator", "optimizer_d"}
    assert StartingPoint(tmp_path, payload, frozenset({"norm"})).initial_state() == {}
