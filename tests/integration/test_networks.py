"""Every network trains one epoch and predicts through the CLI on tiny data."""

import numpy as np
import pytest
import torch
import yaml

from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.cli import main
from i2i_nb.model import Model
from i2i_nb.models import ARCHITECTURES
from tests.integration.conftest import write_pairs

# Tiny sizes keep each run to seconds; the keys are BiaPy's.
TINY = {"FEATURE_MAPS": [4, 8], "RCAN_RG_BLOCK_NUM": 1, "RCAN_RCAB_BLOCK_NUM": 2,
        "RCAN_CONV_FILTERS": 8, "RCAN_REDUCTION_RATIO": 4, "VIT_TOKEN_SIZE": 4,
        "VIT_EMBED_DIM": 8, "VIT_NUM_LAYERS": 2, "VIT_NUM_HEADS": 2, "UNETR_VIT_NUM_FILTERS": 2}
THREE_D = ("unet", "resunet_se", "resunet++", "rcan", "stunet", "unetr", "nafnet", "hrnet",
           "unext_v2")
CASES = [(a, 2) for a in ARCHITECTURES] + [(a, 3) for a in THREE_D]
# nafnet trains as BiaPy's GAN (a BiaPy 3.7.1 config): a discriminator, an adversarial term
# and two optimizers and learning rates; the PatchGAN needs 32-pixel patches.
GAN = {"MODEL": {"NAFNET": {"MIDDLE_BLK_NUM": 1, "ENC_BLK_NUMS": [1], "DEC_BLK_NUMS": [1],
                            "ARCHITECTURE_D": "patchgan", "PATCHGAN": {"BASE_FILTERS": 4}}},
       "LOSS": {"TYPE": ["MAE", "BCE"], "WEIGHTS": [1.0, 0.1]},
       "TRAIN": {"OPTIMIZER": ["ADAMW", "ADAM"], "LR": [1.0e-4, 2.0e-4]}}
# A tiny custom HRNet: 2 stages of 1 module, 3 branches (the third at the second's scale).
TINY_HRNET = {"VARIANT": "custom", "NUM_STAGES": 2, "NUM_MODULES": [1, 1],
              "NUM_BRANCHES": [2, 3], "NUM_BLOCKS": [[1, 1], [1, 1, 1]],
              "NUM_CHANNELS": [[4, 8], [4, 8, 16]], "Z_DOWN": [1, 1], "YX_DOWN": [2, 1]}
# resunet++ needs 3 levels; multiresunet has BiaPy's fixed sizes (FEATURE_MAPS would be
# warned about as having no effect).
ARCH_KEYS = {"resunet++": {"FEATURE_MAPS": [4, 8, 16]}, "multiresunet": {"FEATURE_MAPS": None}}


def tiny_stunet(ndim: int) -> dict:
    """MODEL.STUNET of a custom STU-Net as small (3D: no down-sampling along z)."""
    return {"STUNET": {"VARIANT": "custom", "DEPTH": [1, 1], "DIMS": [4, 8],
                       "POOL_OP_KERNEL_SIZES": [[2, 2] if ndim == 2 else [1, 2, 2]],
                       "CONV_KERNEL_SIZES": [[3] * ndim] * 2}}


# nafnet's generator swapped for a tiny STU-Net (BiaPy's GENERATOR_BACKBONE stunet): the
# NAF-block keys are not read then.
STUNET_GAN = {"NAFNET": {"ARCHITECTURE_D": "patchgan", "PATCHGAN": {"BASE_FILTERS": 4},
                         "GENERATOR_BACKBONE": "stunet"}}


def run_cli(arch: str, ndim: int, tmp_path, epochs: int = 1, resume: bool = False,
            backbone: str = "nafnet") -> int:
    root = tmp_path / "data"
    gan = arch == "nafnet"
    stunet = arch == "stunet" or backbone == "stunet"
    gan_model = STUNET_GAN if backbone == "stunet" else GAN["MODEL"]
    side = 32 if gan else 16
    shape = (side + 8, side + 12) if ndim == 2 else (side + 2 if gan else 6, side + 4, side + 4)
    if not resume:
        write_pairs(root, "train", 2, shape, seed=3)
        write_pairs(root, "test", 1, shape, seed=4)
    config = {
        "PROBLEM": {"TYPE": "IMAGE_TO_IMAGE", "NDIM": f"{ndim}D"},
        "DATA": {"PATCH_SIZE": [side, side, 1] if ndim == 2 else [side if gan else 4, side,
                                                                   side, 1],
                 "TRAIN": {"PATH": str(root / "train/x"), "GT_PATH": str(root / "train/y")},
                 "TEST": {"PATH": str(root / "test/x"), "GT_PATH": str(root / "test/y")},
                 "VAL": {"SPLIT_TRAIN": 0.5}},
        "MODEL": {k: v for k, v in {"ARCHITECTURE": arch, **TINY, **(gan_model if gan else {}),
                                    **(tiny_stunet(ndim) if stunet else {}),
                                    "HRNET": TINY_HRNET, **ARCH_KEYS.get(arch, {})}.items()
                  if v is not None},
        "TRAIN": {"EPOCHS": epochs, "BATCH_SIZE": 2, "PATCHES_PER_EPOCH": 2,
                  **(GAN["TRAIN"] if gan else {})},
        **({"LOSS": GAN["LOSS"]} if gan else {}),
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    args = ["--config", str(path), "--result_dir", str(tmp_path / "out"), "--name", arch,
            "--run_id", "1", "--gpu", "cpu"]
    return main(args + (["--resume"] if resume else []))


@pytest.mark.parametrize(("arch", "ndim"), CASES)
def test_one_epoch_through_the_cli(arch, ndim, tmp_path):
    assert run_cli(arch, ndim, tmp_path) == 0
    run_dir = tmp_path / "out" / arch / "results" / f"{arch}_1"
    assert (run_dir / "per_image" / "img-000.tif").is_file()
    best = tmp_path / "out" / arch / "checkpoints" / f"{arch}_1-checkpoint-best.pth"
    ckpt = load_checkpoint(best)
    assert ckpt["meta"]["architecture"] == arch


@pytest.mark.parametrize("ndim", [2, 3])
def test_one_epoch_with_the_stunet_generator(ndim, tmp_path):
    assert run_cli("nafnet", ndim, tmp_path, backbone="stunet") == 0
    run_dir = tmp_path / "out" / "nafnet" / "results" / "nafnet_1"
    assert (run_dir / "per_image" / "img-000.tif").is_file()
    best = load_checkpoint(tmp_path / "out" / "nafnet" / "checkpoints" /
                           "nafnet_1-checkpoint-best.pth")
    kwargs = best["meta"]["model_kwargs"]
    assert (kwargs["nafnet_generator_backbone"], kwargs["stunet_dims"]) == ("stunet", [4, 8])
    assert all(k.startswith("generator.") for k in best["model"]) and best["discriminator"]


def test_gan_checkpoints_hold_both_networks_and_resume(tmp_path):
    assert run_cli("nafnet", 2, tmp_path) == 0
    checkpoints = tmp_path / "out" / "nafnet" / "checkpoints"
    best = load_checkpoint(checkpoints / "nafnet_1-checkpoint-best.pth")
    last = load_checkpoint(checkpoints / "nafnet_1-checkpoint-last.pth")
    assert "discriminator" in best and {"optimizer", "optimizer_d", "scheduler_d"} <= set(last)
    assert last["optimizer_d"]["param_groups"][0]["initial_lr"] == 2e-4
    assert not any(k.startswith("discriminator") for k in best["model"])  # the generator only
    assert "loss_discriminator" in last["history"][0]
    assert run_cli("nafnet", 2, tmp_path, epochs=2, resume=True) == 0
    resumed = load_checkpoint(checkpoints / "nafnet_1-checkpoint-last.pth")
    assert [r["epoch"] for r in resumed["history"]] == [1, 2]
    assert resumed["optimizer_d"]["state"] and resumed["discriminator"].keys() == \
        last["discriminator"].keys()


def test_unetr_checkpoint_keeps_its_input_size(tmp_path, capsys):
    """A unetr checkpoint's network takes its own patch size: the front door predicts a
    larger image by tiles of that size and refuses a zoo export; fine-tuning it (model_arch
    from the checkpoint) with another DATA.PATCH_SIZE is refused naming the key."""
    root = tmp_path / "data"
    write_pairs(root, "train", 2, (24, 28), seed=3)
    config = {
        "PROBLEM": {"TYPE": "IMAGE_TO_IMAGE", "NDIM": "2D"},
        "DATA": {"PATCH_SIZE": [16, 16, 1], "VAL": {"SPLIT_TRAIN": 0.5},
                 "TRAIN": {"PATH": str(root / "train/x"), "GT_PATH": str(root / "train/y")}},
        "MODEL": {"ARCHITECTURE": "unetr", **TINY},
        "TRAIN": {"EPOCHS": 1, "BATCH_SIZE": 2, "PATCHES_PER_EPOCH": 2},
        "TEST": {"ENABLE": False},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    args = ["--config", str(path), "--result_dir", str(tmp_path / "out"), "--run_id", "1",
            "--gpu", "cpu"]
    assert main([*args, "--name", "first"]) == 0
    best = tmp_path / "out" / "first" / "checkpoints" / "first_1-checkpoint-best.pth"
    model = Model.from_checkpoint(best)
    image = np.random.default_rng(0).random((40, 52), dtype=np.float32)
    assert model.predict(image, tile_shape=(64, 64)).shape == (40, 52)
    with pytest.raises(ValueError, match="fixed size"):
        model.export(tmp_path / "package", image)
    sets = ["MODEL.LOAD_CHECKPOINT=True", f"PATHS.CHECKPOINT_FILE={best}",
            "DATA.PATCH_SIZE=(8, 8, 1)"]
    assert main([*args, "--name", "again", *(a for s in sets for a in ("--set", s))]) == 2
    assert "DATA.PATCH_SIZE: (8, 8) is not the input size (16, 16)" in capsys.readouterr().err


def _from_gan_checkpoint(tmp_path, name: str, model: dict) -> list[str]:
    """CLI args of a run that trains from the first GAN run's best checkpoint with
    ``model`` keys changed."""
    config = yaml.safe_load((tmp_path / "config.yaml").read_text())
    config["MODEL"] = {**config["MODEL"], "LOAD_CHECKPOINT": True, **model}
    config["PATHS"] = {"CHECKPOINT_FILE": str(
        tmp_path / "out" / "nafnet" / "checkpoints" / "nafnet_1-checkpoint-best.pth")}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return ["--config", str(path), "--result_dir", str(tmp_path / "out"), "--name", name,
            "--run_id", "1", "--gpu", "cpu"]


def test_gan_fine_tuning_loads_or_skips_the_discriminator(tmp_path, capsys):
    """The starting checkpoint's discriminator is loaded with its generator; one of other
    sizes is refused naming the key, or partly loaded with MODEL.SKIP_UNMATCHED_LAYERS."""
    from i2i_nb.finetune import StartingPoint
    from i2i_nb.models.patchgan import PatchGAN

    assert run_cli("nafnet", 2, tmp_path) == 0
    best = tmp_path / "out" / "nafnet" / "checkpoints" / "nafnet_1-checkpoint-best.pth"
    payload = load_checkpoint(best)
    start = StartingPoint(best, payload, frozenset({"weights"}))
    same = PatchGAN(2, 1, 4)
    start.load_discriminator(same)
    for key, value in same.state_dict().items():
        assert torch.equal(value, payload["discriminator"][key]), key
    wider = {"NAFNET": {**GAN["MODEL"]["NAFNET"], "PATCHGAN": {"BASE_FILTERS": 8}},
             "ITEMS_TO_LOAD_FROM_CHECKPOINT": ["weights"]}  # not its model_arch
    capsys.readouterr()
    assert main(_from_gan_checkpoint(tmp_path, "refused", wider)) == 2
    assert "discriminator weights" in capsys.readouterr().err
    assert main(_from_gan_checkpoint(tmp_path, "skipped", {
        **wider, "SKIP_UNMATCHED_LAYERS": True})) == 0
    assert "MODEL.SKIP_UNMATCHED_LAYERS: loaded" in capsys.readouterr().out
