"""The table of BiaPy 3.7.1's keys with what each does here, generated from the code.

``python -m i2i_nb.config.key_table`` prints it; the README holds it between markers, and
a test checks that it is current.
"""

from __future__ import annotations

from i2i_nb.config.biapy import RENAMED
from i2i_nb.config.biapy_keys import BIAPY_DEFAULTS
from i2i_nb.config.fields import all_keys
from i2i_nb.config.notes import NOT_BUILT, REASONS, key_note
from i2i_nb.config.root import Config

BEGIN, END = "<!-- biapy-keys:begin -->", "<!-- biapy-keys:end -->"
# BiaPy values converted on the way in (check_configuration's conversions).
CONVERSIONS = {
    "TRAIN.OPTIMIZER": "BiaPy 3.7's one-element list read as its element",
    "TRAIN.LR": "one-element list read as its element",
    "TRAIN.OPT_BETAS": "`[[b1, b2]]` read as `[b1, b2]`",
    "TRAIN.PATIENCE": "-1: never stop early",
    "TRAIN.LR_SCHEDULER.MIN_LR": "list read as its element; -1: this project's default "
                                 "(refused for warmupcosine/reduceonplateau, as BiaPy)",
    "TRAIN.LR_SCHEDULER.WARMUP_COSINE_DECAY_EPOCHS": "-1: not set (refused with warmupcosine "
                                                     "unless COSINE_DECAY_FRACTION, as BiaPy)",
    "TRAIN.LR_SCHEDULER.REDUCEONPLATEAU_PATIENCE": "-1: not set (refused with "
                                                   "reduceonplateau, as BiaPy)",
    "TRAIN.CHECKPOINT_MONITOR": "val_loss or val_psnr; other values warned (BiaPy ignores "
                                "the key)",
    "DATA.NORMALIZATION.TYPE": "'custom' read as zero_mean_unit_variance",
    "DATA.NORMALIZATION.PERC_CLIP.LOWER_PERC": "-1: not set",
    "DATA.NORMALIZATION.PERC_CLIP.UPPER_PERC": "-1: not set",
    "DATA.NORMALIZATION.TARGET.TYPE": "'': the default here; with TARGET.ENABLE, the input's "
                                      "TYPE (as BiaPy)",
    "MODEL.NORMALIZATION": "'' read as 'in' (as BiaPy)",
    "MODEL.ARCHITECTURE": "unetr, unext_v1, unext_v2, hrnet, stunet and nafnet refused, "
                          "naming what is not built; multiresunet has BiaPy's fixed sizes "
                          "(set MODEL keys it does not read are warned about)",
    "MODEL.YX_DOWN": "all 0: 2 at every down-sampling (as BiaPy)",
    "MODEL.ISOTROPY": "all True, of any length: every level (as BiaPy)",
    "MODEL.CONV_LAYERS": "one value, or one value repeated to another length: every level "
                         "(as BiaPy)",
    "MODEL.Z_DOWN": "all 0: automatic; its length sets FEATURE_MAPS' levels when those are "
                    "left out",
    "LOSS.TYPE": "[] : MAE (BiaPy's image-to-image default); VGG, LPIPS, BCE, HINGE refused",
    "TEST.REDUCE_MEMORY": "True: TEST.ON_DISK always",
    "SYSTEM.NUM_WORKERS": "-1: automatic",
    "TRAIN.METRICS": "[] : psnr; also si_psnr, nrmse; logged as val_<metric>",
    "TEST.METRICS": "[] : psnr, si_psnr, pcc, ssim, mae; also nrmse; fid, is, lpips refused "
                    "(they need downloaded weights)",
    "AUGMENTOR.ENABLE": "default True here (flips and 90-degree turns)",
    "AUGMENTOR.VFLIP": "flips y, the rows (BiaPy 3.7.1's code flips x); default True here",
    "AUGMENTOR.HFLIP": "flips x, the columns (BiaPy 3.7.1's code flips y); default True here",
    "AUGMENTOR.ZFLIP": "default True here",
    "AUGMENTOR.ROT90": "default True here",
    "AUGMENTOR.ROT90_PROB": "default 0.75 here: with the flips, the 8 symmetries of the "
                            "(y, x) square equally likely",
    **{f"DATA.{split}.INPUT_{role}_AXES_ORDER": "its default TZCYX on an array of another "
       "rank: the metadata's axes or a guess" for split in ("TRAIN", "VAL", "TEST")
       for role in ("IMG", "MASK")},
}
# Old keys converted into others (not renamed one to one).
OLD_KEYS = {"AUGMENTOR.DA_PROB": "old key: the value of every AUGMENTOR.*_PROB left out "
                                 "(as BiaPy 3.7)"}


def rows() -> list[tuple[str, str, str]]:
    """``(key, status, note)`` for every BiaPy key, then every old key name converted."""
    fields = set(all_keys(Config()))
    table = []
    grouped: dict[str, int] = {}
    for key in BIAPY_DEFAULTS:
        if key in fields:
            table.append((key, "honoured", CONVERSIONS.get(key, "")))
            continue
        prefix = next((p for p in sorted({**REASONS, **NOT_BUILT}, key=len, reverse=True)
                       if key.startswith(p) and p.endswith(".")), None)
        if prefix is not None and prefix in REASONS:
            grouped[prefix] = grouped.get(prefix, 0) + 1
            continue
        status = "not built" if any(key.startswith(p) for p in NOT_BUILT) else "no effect"
        table.append((key, status, key_note(key)))
    for prefix, count in grouped.items():
        table.append((prefix + "*", "no effect", f"{count} keys: {REASONS[prefix]}"))
    for old, new in RENAMED.items():
        table.append((old, "converted", f"old name of {new}"))
    table += [(old, "converted", note) for old, note in OLD_KEYS.items()]
    return table


def markdown() -> str:
    """The README block."""
    lines = [BEGIN, "| BiaPy key | here | note |", "| --- | --- | --- |"]
    lines += [f"| `{key}` | {status} | {note} |" for key, status, note in rows()]
    return "\n".join([*lines, END])


if __name__ == "__main__":
    print(markdown())
