"""NAFNet's GAN training: the networks and losses equal BiaPy 3.7.1's, a step moves both."""

from pathlib import Path

import pytest
import torch

from i2i_nb.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from i2i_nb.config import LossConfig, TrainConfig
from i2i_nb.config.train import DiscriminatorTrainConfig, GanLossConfig, LRSchedulerConfig
from i2i_nb.finetune import StartingPoint
from i2i_nb.gan import GanLoss, GanStepper, build_gan_loss, fake_image
from i2i_nb.losses import build_loss
from i2i_nb.models import build_model, count_parameters
from i2i_nb.models.gan_generator import StunetGenerator
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


# Made by tests/unit/data/make_nafnet_stunet_biapy.py with BiaPy 3.7.1's build_model.
STUNET_REFERENCE = torch.load(Path(__file__).parent / "data" / "nafnet_stunet_biapy.pt",
                              weights_only=True)
STUNET_GENERATORS = {  # (in, out channels, spec fields) of the reference's layouts
    "2d": (2, 3, {"heads": [1, 2], "stunet_depth": [1, 2, 1], "stunet_dims": [4, 8, 8],
                  "stunet_pool_op_kernel_sizes": [[2, 2], [1, 2]],
                  "stunet_conv_kernel_sizes": [[3, 3], [5, 3], [1, 3]]}),
    "3d": (1, 2, {"stunet_depth": [2, 1], "stunet_dims": [4, 6],
                  "stunet_pool_op_kernel_sizes": [[1, 2, 2]],
                  "stunet_conv_kernel_sizes": [[1, 3, 3], [3, 3, 3]]}),
}


def stunet_generator(name: str) -> torch.nn.Module:
    cin, cout, fields = STUNET_GENERATORS[name]
    return build_model("nafnet", int(name[0]), cin, cout, nafnet_generator_backbone="stunet",
                       stunet_variant="custom", nafnet_patchgan_base_filters=4, **fields)


@pytest.mark.parametrize("name", ["2d", "3d"])
def test_stunet_generator_equals_biapy(name):
    """BiaPy's GANGeneratorWrapper around its STUNet (random weights, loaded by state-dict
    order): the same prediction, straight-through gradient and discriminator output."""
    ref = STUNET_REFERENCE[name]
    model = stunet_generator(name).eval()
    assert isinstance(model, StunetGenerator)
    own = model.state_dict()
    assert all(k.startswith("generator.") for k in own)  # BiaPy's names for the STU-Net
    model.load_state_dict(dict(zip(own, ref["generator"], strict=True)))
    x = ref["x"].clone().requires_grad_(True)
    y = model(x)
    (grad,) = torch.autograd.grad((y * ref["weights"]).sum(), x)
    assert float((y.detach() - ref["y"]).abs().max()) < 1e-6
    assert float((grad - ref["grad"]).abs().max()) < 1e-6
    assert model.last_layer() is model.generator.heads[-1].weight
    if ref["discriminator"]:
        discriminator = build_discriminator(model.spec).eval()
        d_own = discriminator.state_dict()
        discriminator.load_state_dict(dict(zip(d_own, ref["discriminator"], strict=True)))
        with torch.no_grad():
            assert torch.allclose(discriminator(y.detach()), ref["d_y"], atol=1e-6)


def test_stunet_generator_output_is_bounded_with_a_gradient_when_saturated():
    model = stunet_generator("3d")
    with torch.no_grad():
        model.generator.heads[-1].bias.fill_(40.0)  # logits past the clamp
    x = torch.randn(1, 1, 4, 8, 8, requires_grad=True)
    y = model(x)
    assert 0 < float(y.detach().min()) and float(y.detach().max()) < 1
    y.sum().backward()
    assert float(model.generator.heads[-1].weight.grad.abs().sum()) > 0


def test_stunet_generator_parameter_counts_equal_biapy_defaults():
    """BiaPy 3.7.1's GAN with MODEL.STUNET's defaults (base) and the default PatchGAN, 1 -> 1
    channel, counted from its build_model (data/make_nafnet_stunet_biapy.py)."""
    for ndim, (generator, patchgan) in STUNET_REFERENCE["counts"].items():
        with torch.device("meta"):
            model = build_model("nafnet", ndim, 1, 1, nafnet_generator_backbone="stunet")
            discriminator = build_discriminator(model.spec)
        assert (count_parameters(model), count_parameters(discriminator)) == (generator, patchgan)
        assert model.divisor == (16,) * ndim
    assert STUNET_REFERENCE["counts"][2] == (20445571, 2764481)


def test_stunet_generator_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = stunet_generator("2d").eval()
    meta = {"architecture": "nafnet", "ndim": 2, "in_channels": 2, "out_channels": 3,
            "model_kwargs": model.spec.kwargs()}
    save_checkpoint(tmp_path / "m.pth", {"model": model.state_dict(), "meta": meta})
    loaded = model_from_checkpoint(load_checkpoint(tmp_path / "m.pth")).eval()
    assert isinstance(loaded, StunetGenerator) and loaded.spec == model.spec
    x = torch.randn(1, 2, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


def test_stunet_generator_field_errors():
    with pytest.raises(ValueError, match="stunet_depth"):
        build_model("nafnet", 2, 1, 1, nafnet_generator_backbone="stunet",
                    stunet_variant="custom", stunet_dims=[4, 8], stunet_depth=[1],
                    stunet_pool_op_kernel_sizes=[[2, 2]],
                    stunet_conv_kernel_sizes=[[3, 3], [3, 3]])
    with pytest.raises(ValueError, match="always ends it in the sigmoid"):
        build_model("nafnet", 2, 1, 1, nafnet_generator_backbone="stunet",
                    nafnet_output_sigmoid=False)
    with pytest.raises(ValueError, match="generator backbone 'unet'"):
        build_model("nafnet", 2, 1, 1, nafnet_generator_backbone="unet")


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
    source = torch.nn.Linear(2, 1)
    payload = {"meta": {}, "model": {}, "discriminator": source.state_dict(),
               "optimizer_d": {"state": {}, "param_groups": []}}
    start = StartingPoint(tmp_path, payload, frozenset({"weights", "optimizer"}))
    target = torch.nn.Linear(2, 1)
    start.load_discriminator(target)
    assert torch.equal(target.weight, source.weight)
    assert set(start.initial_state()) == {"optimizer_d"}
    untouched = torch.nn.Linear(2, 1)
    before = untouched.weight.clone()
    only_norm = StartingPoint(tmp_path, payload, frozenset({"norm"}))
    only_norm.load_discriminator(untouched)
    assert torch.equal(untouched.weight, before) and only_norm.initial_state() == {}
