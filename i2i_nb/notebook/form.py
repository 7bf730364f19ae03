"""An ipywidgets form for the settings the notebooks expose, read back through the config."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets

from i2i_nb.config import (
    ARCHITECTURES,
    INPUT_NORMALIZATIONS,
    LOSSES,
    MEASURES,
    OPTIMIZERS,
    OUTPUT_DTYPES,
    SCHEDULERS,
    Config,
    config_from_dict,
    save_config,
    to_plain,
)
from i2i_nb.errors import ConfigError

SECTIONS: dict[str, list[tuple[str, str]]] = {
    "Data": [
        ("DATA.TRAIN.PATH", "train inputs"), ("DATA.TRAIN.GT_PATH", "train targets"),
        ("DATA.TEST.PATH", "test inputs"), ("DATA.TEST.GT_PATH", "test targets"),
        ("DATA.PATCH_SIZE", "patch size"), ("DATA.NORMALIZATION.TYPE", "normalization"),
        ("DATA.NORMALIZATION.MEASURE_BY", "statistics from"),
        ("DATA.VAL.SPLIT_TRAIN", "validation fraction"), ("AUGMENTOR.ENABLE", "augmentation"),
    ],
    "Model": [
        ("MODEL.ARCHITECTURE", "architecture"), ("MODEL.FEATURE_MAPS", "feature maps"),
        ("MODEL.DROPOUT_VALUES", "dropout"),
    ],
    "Training": [
        ("TRAIN.EPOCHS", "epochs"), ("TRAIN.BATCH_SIZE", "batch size"),
        ("TRAIN.LR", "learning rate"), ("LOSS.TYPE", "loss"),
        ("TRAIN.OPTIMIZER", "optimizer"), ("TRAIN.LR_SCHEDULER.NAME", "lr schedule"),
        ("TRAIN.PATIENCE", "patience (-1: none)"),
        ("TRAIN.PATCHES_PER_EPOCH", "patches per epoch (0: auto)"), ("SYSTEM.SEED", "seed"),
    ],
    "Inference": [
        ("DATA.TEST.TILE_SHAPE", "tile shape"), ("DATA.TEST.OVERLAP", "tile overlap"),
        ("TEST.FULL_IMG", "whole image at once"), ("TEST.OUTPUT_DTYPE", "output type"),
    ],
}
CHOICES: dict[str, tuple[str, ...]] = {
    "DATA.NORMALIZATION.TYPE": INPUT_NORMALIZATIONS, "DATA.NORMALIZATION.MEASURE_BY": MEASURES,
    # nafnet trains as a GAN: its keys (BCE/HINGE, two optimizers) come from a YAML config
    "MODEL.ARCHITECTURE": tuple(a for a in ARCHITECTURES if a != "nafnet"), "LOSS.TYPE": LOSSES,
    "TRAIN.OPTIMIZER": OPTIMIZERS, "TRAIN.LR_SCHEDULER.NAME": tuple(c for c in SCHEDULERS if c),
    "TEST.OUTPUT_DTYPE": OUTPUT_DTYPES,
}
_STYLE = {"description_width": "230px"}  # the longest label shows whole
_LAYOUT = {"width": "620px"}


def _lookup(plain: dict, key: str) -> Any:
    for part in key.split("."):
        plain = plain[part]
    return plain


def _field(key: str, label: str, value: Any) -> ipywidgets.Widget:
    """A widget for one key: a choice, a check box, a number, or text (sequences as ``a, b``)."""
    common = {"description": label, "style": _STYLE, "layout": _LAYOUT}
    if key in CHOICES:
        options = list(CHOICES[key])
        value = str(value[0] if isinstance(value, list) and len(value) == 1 else value).lower()
        return ipywidgets.Dropdown(options=options + [value] * (value not in options),
                                   value=value, **common)
    if isinstance(value, bool):
        return ipywidgets.Checkbox(value=value, indent=False, **common)
    if isinstance(value, int):
        return ipywidgets.IntText(value=value, **common)
    if isinstance(value, float):
        return ipywidgets.FloatText(value=value, **common)
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return ipywidgets.Text(value=str(value), **common)


class ParameterForm:
    """Data / Model / Training / Inference settings of a config, editable in a notebook.

    Parameters
    ----------
    cfg : the settings shown; keys not in the form keep their values.
    yaml_path : where "Save YAML" writes the config.

    Attributes
    ----------
    widget : the form, to display.
    fields : the input widget of each key (``"TRAIN.EPOCHS"``...).
    status : a line saying whether the values are valid, or naming the key that is not.
    """

    def __init__(self, cfg: Config, yaml_path: str | Path = "config.yaml") -> None:
        self._base = cfg
        self._last_valid = cfg
        plain = to_plain(cfg)
        self.fields = {key: _field(key, label, _lookup(plain, key))
                       for keys in SECTIONS.values() for key, label in keys}
        sections = ipywidgets.Accordion(children=[
            ipywidgets.VBox([self.fields[key] for key, _ in keys]) for keys in SECTIONS.values()])
        for i, title in enumerate(SECTIONS):
            sections.set_title(i, title)
        sections.selected_index = 0
        self.yaml_path = ipywidgets.Text(value=str(yaml_path), description="YAML file",
                                         layout={"width": "420px"})
        save = ipywidgets.Button(description="Save YAML", icon="save")
        save.on_click(lambda _: self.save())
        self.status = ipywidgets.HTML()
        self.widget = ipywidgets.VBox([sections, ipywidgets.HBox([self.yaml_path, save]),
                                       self.status])
        for field in self.fields.values():
            field.observe(lambda _: self._read(), names="value")
        self._read()

    def _values(self) -> dict:
        nested: dict = {}
        for key, field in self.fields.items():
            *parents, leaf = key.split(".")
            node = nested
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = field.value
        return nested

    def _read(self) -> Config | ConfigError:
        """The form's config, or the error naming the invalid key (shown in ``status``)."""
        try:
            cfg = config_from_dict(self._values(), base=self._base)
        except ConfigError as err:
            self.status.value = f'<span style="color:#b00">&#10007; {html.escape(str(err))}</span>'
            return err
        self._last_valid = cfg
        self.status.value = '<span style="color:#070">&#10003; valid settings</span>'
        return cfg

    def config(self) -> Config:
        """The settings in the form; when a value is invalid the message is shown (and
        printed) and the last valid settings are returned."""
        cfg = self._read()
        if isinstance(cfg, ConfigError):
            print(f"Parameter form: {cfg}. Using the last valid settings until it is fixed.")
            return self._last_valid
        return cfg

    def save(self) -> Path | None:
        """Write the form's config as YAML to ``yaml_path``; None when a value is invalid."""
        cfg = self._read()
        if isinstance(cfg, ConfigError):
            return None
        path = Path(self.yaml_path.value)
        save_config(cfg, path)
        self.status.value += f" &mdash; saved to {html.escape(str(path.absolute()))}"
        return path
