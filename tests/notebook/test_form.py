"""The parameter form, without a browser."""

import ipywidgets
import yaml

from i2i_nb.config import to_plain
from i2i_nb.notebook.form import SECTIONS, ParameterForm


def test_prefilled_from_the_config(cfg_2d):
    form = ParameterForm(cfg_2d)
    assert form.fields["TRAIN.EPOCHS"].value == cfg_2d.train.epochs
    assert form.fields["DATA.PATCH_SIZE"].value == "64, 64, 1"
    assert form.fields["MODEL.ARCHITECTURE"].value == "unet"
    assert isinstance(form.fields["AUGMENTOR.ENABLE"], ipywidgets.Checkbox)
    assert form.config() == cfg_2d
    assert "valid settings" in form.status.value


def test_sections_in_order(cfg_2d):
    accordion = ParameterForm(cfg_2d).widget.children[0]
    titles = [accordion.get_title(i) for i in range(len(accordion.children))]
    assert titles == ["Data", "Model", "Training", "Inference"] == list(SECTIONS)


def test_changed_values_come_back_as_config(cfg_2d, tmp_path):
    form = ParameterForm(cfg_2d)
    form.fields["TRAIN.EPOCHS"].value = 7
    form.fields["TRAIN.LR"].value = 0.0005
    form.fields["MODEL.ARCHITECTURE"].value = "resunet"
    form.fields["DATA.PATCH_SIZE"].value = "32, 32"
    form.fields["MODEL.FEATURE_MAPS"].value = "8, 16"
    form.fields["DATA.TEST.OVERLAP"].value = "0.25, 0.25"
    form.fields["DATA.TRAIN.PATH"].value = str(tmp_path / "x")
    form.fields["AUGMENTOR.ENABLE"].value = False
    cfg = form.config()
    assert (cfg.train.epochs, cfg.train.lr, cfg.model.architecture) == (7, 0.0005, "resunet")
    assert cfg.data.patch_size == (32, 32)
    assert cfg.model.feature_maps == [8, 16]
    assert cfg.data.test.overlap == (0.25, 0.25)
    assert cfg.data.train.path == str(tmp_path / "x")
    assert cfg.augmentor.enable is False
    assert cfg.data.test.tile_shape == cfg_2d.data.test.tile_shape  # untouched keys kept


def test_invalid_value_shows_the_message_and_keeps_the_last_valid(cfg_2d, capsys):
    form = ParameterForm(cfg_2d)
    form.fields["TRAIN.EPOCHS"].value = 9
    form.fields["TRAIN.BATCH_SIZE"].value = 0
    assert "TRAIN.BATCH_SIZE: must be at least 1" in form.status.value
    cfg = form.config()  # does not raise
    assert cfg.train.epochs == 9 and cfg.train.batch_size == cfg_2d.train.batch_size
    assert "TRAIN.BATCH_SIZE: must be at least 1" in capsys.readouterr().out
    form.fields["DATA.PATCH_SIZE"].value = "sixty-four"
    form.fields["TRAIN.BATCH_SIZE"].value = 4
    assert "DATA.PATCH_SIZE" in form.status.value
    form.fields["DATA.PATCH_SIZE"].value = "64, 64"
    assert form.config().train.batch_size == 4


def test_save_yaml(cfg_2d, tmp_path):
    path = tmp_path / "cfg" / "run.yaml"
    form = ParameterForm(cfg_2d, yaml_path=path)
    form.fields["TRAIN.EPOCHS"].value = 3
    save = form.widget.children[1].children[1]
    save.click()
    assert yaml.safe_load(path.read_text())["TRAIN"]["EPOCHS"] == 3
    assert yaml.safe_load(path.read_text())["DATA"] == to_plain(cfg_2d)["DATA"]
    assert "saved to" in form.status.value
    form.fields["TRAIN.LR"].value = -1.0
    assert form.save() is None
