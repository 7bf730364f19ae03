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
from i2i_nb.config.validate_model import NOT_BUILT as UNBUILT_NETWORKS

BEGIN, END = "<!-- biapy-keys:begin -->", "<!-- biapy-keys:end -->"
# BiaPy values converted on the way in (check_configuration's conversions).
CONVERSIONS = {
    "TRAIN.OPTIMIZER": "BiaPy 3.7's one-element list read as its element; two (nafnet only, "
                       "as BiaPy): the second is the discriminator's (TRAIN.DISCRIMINATOR)",
    "TRAIN.LR": "one-element list read as its element; two: the second is the "
                "discriminator's",
    "TRAIN.OPT_BETAS": "`[[b1, b2]]` read as `[b1, b2]`; a second pair: the discriminator's",
    "TRAIN.PATIENCE": "-1: never stop early",
    "TRAIN.LR_SCHEDULER.MIN_LR": "list read as its element (a second: the discriminator's); "
                                 "-1: this project's default (refused for "
                                 "warmupcosine/reduceonplateau, as BiaPy)",
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
    "MODEL.STUNET.VARIANT": "small, base, large or custom (as BiaPy); sizes stunet and nafnet's "
                            "GENERATOR_BACKBONE stunet",
    "MODEL.STUNET.PRETRAINED": "True refused (OrgMIM's weights would be downloaded), unless "
                               "MODEL.LOAD_CHECKPOINT, when BiaPy skips the download too",
    **{f"MODEL.STUNET.{key}": "read only with VARIANT custom (as BiaPy)" for key in (
        "DEPTH", "DIMS", "POOL_OP_KERNEL_SIZES", "CONV_KERNEL_SIZES")},
    "MODEL.ARCHITECTURE": (f"{', '.join(UNBUILT_NETWORKS)} refused, naming what is not "
                           "built; " if UNBUILT_NETWORKS else "") + (
        "unetr takes inputs of DATA.PATCH_SIZE only (tiled at that size; no TEST.FULL_IMG, "
        "no zoo export); nafnet trains as BiaPy's GAN (discriminator, BCE/HINGE term, two "
        "optimizers); multiresunet has BiaPy's fixed sizes (set MODEL keys it does not read "
        "are warned about); old hrnet<W> names: hrnet with MODEL.HRNET.VARIANT W<W>"),
    "MODEL.UNETR_VIT_MODEL": "custom, or vit_base_patch16 / vit_large_patch16 built by their "
                             "sizes (no weights); vit_huge_patch14 refused (token 14 is no power "
                             "of two, as BiaPy), sam3_vit refused (needs downloaded weights)",
    "MODEL.UNETR_VIT_HIDD_MULT": "-1 (or 0): skip connections every VIT_NUM_LAYERS // "
                                 "log2(VIT_TOKEN_SIZE) blocks (as BiaPy)",
    "MODEL.VIT_PRETRAINED_WEIGHTS": "must stay empty: refused (pretrained weights would be "
                                    "downloaded)",
    "MODEL.DROPOUT_VALUES": "one value for unetr (all 0: 0, as BiaPy)",
    "MODEL.NAFNET.GENERATOR_BACKBONE": "nafnet, or stunet: the STU-Net of MODEL.STUNET as the "
                                       "generator, ending in BiaPy's sigmoid (as BiaPy)",
    "MODEL.HRNET.Z_DOWN": "all 0: 1 at every stage (BiaPy's value for W18-W64, which it "
                          "imposes on them; read for every variant here)",
    "MODEL.HRNET.YX_DOWN": "all 0: 2 at every stage (BiaPy's value for W18-W64, which it "
                           "imposes on them; read for every variant here)",
    "MODEL.HRNET.BLOCK_TYPE": "BiaPy resets it to BASIC for W18-W64 (read for every variant "
                              "here); BOTTLENECK, CONVNEXT_V1/V2 fail in BiaPy 3.7.1, built here",
    "MODEL.HRNET.HEAD_TYPE": "ASPP, PSP, OCR followed by a 1x1 convolution to the output "
                             "channels (BiaPy outputs their 256 features)",
    "MODEL.YX_DOWN": "all 0: 2 at every down-sampling (as BiaPy)",
    "MODEL.ISOTROPY": "all True, of any length: every level (as BiaPy)",
    "MODEL.CONV_LAYERS": "one value, or one value repeated to another length: every level "
                         "(as BiaPy)",
    "MODEL.Z_DOWN": "all 0: automatic; its length sets FEATURE_MAPS' levels when those are "
                    "left out",
    "LOSS.TYPE": "[] : MAE (BiaPy's image-to-image default); VGG, LPIPS refused; BCE, HINGE: "
                 "the adversarial term, nafnet only",
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
    "DATA.TEST.FILTER_SAMPLES.ENABLE": "whole test images; refused with TEST.BY_CHUNKS (BiaPy "
                                       "filters blocks there)",
    "DATA.TEST.MEDIAN_PADDING": "every border tile, 2D and 3D (BiaPy: 3D, the DATA.TEST.PADDING "
                                "margin); refused with TEST.BY_CHUNKS",
    "DATA.TEST.ROI_MASK.ENABLE": "refused with TEST.BY_CHUNKS (BiaPy skips the blocks outside "
                                 "the ROI there)",
    "DATA.FORCE_RGB": "one-channel targets too (as BiaPy's image-to-image generators)",
    "MODEL.FREEZE_LAYERS_MATCHING": "matched against this project's parameter names (e.g. "
                                    "encoders.0.), which differ from BiaPy's",
    "TRAIN.SAVE_TRAIN_PREDS_FREQ": "into the results' train_pred_samples/ (BiaPy's "
                                   "PATHS.TRAIN_PRED_SAMPLES)",
    "DATA.PREPROCESS.VAL": "validation taken from the training images follows "
                           "DATA.PREPROCESS.TRAIN (as BiaPy)",
    "DATA.PREPROCESS.RESIZE.OUTPUT_SHAPE": "(512, 512) in 3D read as (512, 512, 512) (as "
                                           "BiaPy)",
    "DATA.PREPROCESS.RESIZE.ORDER": "also the training targets' order (BiaPy 3.7.1's "
                                    "generator resizes every target by nearest neighbour)",
    "DATA.PREPROCESS.MATCH_HISTOGRAM.REFERENCE_PATH": "matched over the reference's own "
                                                      "values (BiaPy: every integer to the "
                                                      "dtype's maximum)",
    "DATA.PREPROCESS.CLAHE.ENABLE": "float images outside [-1, 1] scaled by their range first "
                                    "(scikit-image refuses them)",
    **{f"DATA.{split}.FILTER_SAMPLES.PROPS": "'foreground' refused (BiaPy's segmentation "
       "only); a filter that drops every sample is refused" for split in ("TRAIN", "VAL",
                                                                          "TEST")},
    "DATA.VAL.FILTER_SAMPLES.NORM_BEFORE": "its own (BiaPy 3.7.1 reads DATA.TRAIN's)",
    "DATA.TEST.FILTER_SAMPLES.NORM_BEFORE": "honoured (BiaPy 3.7.1 ignores it)",
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
