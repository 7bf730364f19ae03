"""Why a BiaPy key has no effect here: one reason per key or key prefix.

A BiaPy key that is a field of this project's config is honoured (its meaning is the
field's docstring). The rest fall in three groups: keys of other BiaPy workflows,
keys about BiaPy's own logging and bookkeeping, and BiaPy image-to-image options this
project does not build, each with what BiaPy does with it (none left).
"""

from __future__ import annotations

_OTHER_WORKFLOW = "applies to BiaPy's {} workflow, not IMAGE_TO_IMAGE"

# Longest matching prefix wins.
REASONS: dict[str, str] = {
    "PROBLEM.SEMANTIC_SEG.": _OTHER_WORKFLOW.format("semantic segmentation"),
    "PROBLEM.INSTANCE_SEG.": _OTHER_WORKFLOW.format("instance segmentation"),
    "PROBLEM.DETECTION.": _OTHER_WORKFLOW.format("detection"),
    "PROBLEM.DENOISING.": _OTHER_WORKFLOW.format("self-supervised denoising (Noise2Void)"),
    "PROBLEM.SUPER_RESOLUTION.": _OTHER_WORKFLOW.format("super-resolution"),
    "PROBLEM.SELF_SUPERVISED.": _OTHER_WORKFLOW.format("self-supervised pre-training"),
    "PROBLEM.CLASSIFICATION.": _OTHER_WORKFLOW.format("classification"),
    "PROBLEM.IMAGE_TO_IMAGE.MEMBRANE_REPAIR.": (
        "configures BiaPy's membrane-repair segmentation post-process, which is off "
        "(MEMBRANE_REPAIR.ENABLE: False)"),
    "PROBLEM.PRINT_OLD_KEY_CHANGES": "old keys are always reported here, one note line each",
    "TEST.POST_PROCESSING.": "post-processes segmentation/detection outputs; a regression "
                             "prediction is written as predicted",
    "TEST.DET_": _OTHER_WORKFLOW.format("detection"),
    "TEST.MATCHING_STATS": _OTHER_WORKFLOW.format("instance segmentation"),
    "DATA.N_CLASSES": "counts segmentation classes; the targets' channels decide here",
    "DATA.TRAIN.INSTANCE_CHANNELS_MASK_DIR": _OTHER_WORKFLOW.format("instance segmentation"),
    "DATA.VAL.INSTANCE_CHANNELS_MASK_DIR": _OTHER_WORKFLOW.format("instance segmentation"),
    "DATA.TEST.INSTANCE_CHANNELS_MASK_DIR": _OTHER_WORKFLOW.format("instance segmentation"),
    "DATA.TRAIN.DETECTION_MASK_DIR": _OTHER_WORKFLOW.format("detection"),
    "DATA.VAL.DETECTION_MASK_DIR": _OTHER_WORKFLOW.format("detection"),
    "DATA.TEST.DETECTION_MASK_DIR": _OTHER_WORKFLOW.format("detection"),
    "DATA.TRAIN.SSL_SOURCE_DIR": _OTHER_WORKFLOW.format("self-supervised"),
    "DATA.VAL.SSL_SOURCE_DIR": _OTHER_WORKFLOW.format("self-supervised"),
    "DATA.TEST.SSL_SOURCE_DIR": _OTHER_WORKFLOW.format("self-supervised"),
    "DATA.TRAIN.PROBABILITY_MAP": "BiaPy uses it for segmentation and detection only; "
                                  "DATA.TRAIN.FOREGROUND_SAMPLING does this for image to image",
    "DATA.TRAIN.W_FOREGROUND": "weights of DATA.TRAIN.PROBABILITY_MAP (segmentation only)",
    "DATA.TRAIN.W_BACKGROUND": "weights of DATA.TRAIN.PROBABILITY_MAP (segmentation only)",
    "LOSS.CLASS_REBALANCE": "re-weights segmentation classes; a regression has none",
    "LOSS.CLASS_WEIGHTS": "re-weights segmentation classes; a regression has none",
    "LOSS.IGNORE_INDEX": "a segmentation label to ignore; a regression has none",
    "LOSS.CONTRAST.": "BiaPy's contrastive loss for instance segmentation embeddings",
    "MODEL.MAE_": "configures BiaPy's masked-autoencoder pre-training (SELF_SUPERVISED)",
    "MODEL.TORCHVISION_MODEL_NAME": "torchvision models are for classification and "
                                    "segmentation in BiaPy (and need downloaded weights)",
    "MODEL.VIT_MODEL": "the backbone of BiaPy's vit and mae (classification, self-supervised "
                       "pre-training); unetr's is MODEL.UNETR_VIT_MODEL",
    "MODEL.VIT_NORM_EPS": "read by BiaPy's vit and mae only; BiaPy's unetr, as this one, uses "
                          "torch's layer-norm eps 1e-5",
    "TRAIN.VERBOSE": "progress is always shown (tqdm)",
    "TEST.VERBOSE": "progress is always shown (tqdm)",
    "TEST.METRICS_IN_CPU": "metrics are always computed on the CPU in float64 blocks",
    "TEST.SAVE_MODEL_RAW_OUTPUT": "the prediction in per_image/ is the model's output, mapped "
                                  "back to the targets' units",
    "TEST.REUSE_PREDICTIONS": "each run predicts afresh (a finished run's predictions are in "
                              "its per_image/)",
    "TEST.ANALIZE_2D_IMGS_AS_3D_STACK": "stacks 2D segmentation outputs for 3D "
                                        "post-processing; not used for image to image",
    "DATA.CHECK_GENERATORS": "BiaPy's debugging dump of its data generators; the aug/ folder "
                             "holds augmented training patches here",
    "DATA.TRAIN.CHECK_DATA": "the data are always checked before training",
    "DATA.TEST.CHECK_DATA": "the data are always checked before training",
    "DATA.VAL.DIST_EVAL": "validation is always shared out across torchrun processes",
    "DATA.TRAIN.PADDING": "BiaPy uses it only to reconstruct whole training images from "
                          "patches, which image-to-image training never does",
    "DATA.VAL.PADDING": "BiaPy uses it only to reconstruct whole validation images from "
                        "patches, which image-to-image validation never does",
    "DATA.VAL.IN_MEMORY": "validation images follow DATA.TRAIN.IN_MEMORY",
    "DATA.TEST.IN_MEMORY": "test images are memory-mapped, and predicted from disk to disk "
                           "when too large for memory (TEST.ON_DISK)",
    "LOG.": "logs, charts and TensorBoard files go to the seed's results tree",
    "TEST.BY_CHUNKS.FLUSH_EACH": "block-wise predictions are written to Zarr, one whole chunk "
                                 "per block, made durable before the block is recorded",
    "TEST.BY_CHUNKS.WRITE_RAW_PREDICTIONS": "the Zarr written block by block is the raw "
                                            "prediction (image to image has no post-process)",
    "TEST.BY_CHUNKS.PHASES": "image to image has one phase, the prediction",
    "TEST.BY_CHUNKS.WORKFLOW_PROCESS.": "post-processes segmentation chunks; a regression "
                                        "prediction is written as predicted",
    "DATA.TRAIN.INPUT_ZARR_MULTIPLE_DATA_": "CREMI synapse annotations (detection), not used "
                                            "for image to image",
    "DATA.VAL.INPUT_ZARR_MULTIPLE_DATA_": "CREMI synapse annotations (detection), not used "
                                          "for image to image",
    "DATA.TEST.INPUT_ZARR_MULTIPLE_DATA_": "CREMI synapse annotations (detection), not used "
                                           "for image to image",
    "DATA.VAL.RESOLUTION": "BiaPy gives it to the validation generator, which does not "
                           "augment: it scales only AUGMENTOR.CUTOUT (see DATA.TRAIN.RESOLUTION)",
    "DATA.TEST.RESOLUTION": _OTHER_WORKFLOW.format("detection"),
    "AUGMENTOR.SHUFFLE_TRAIN_DATA_EACH_EPOCH": "training patches are always drawn afresh "
                                               "(seeded) every epoch",
    "AUGMENTOR.SHUFFLE_VAL_DATA_EACH_EPOCH": "validation patches are fixed (seeded) so epochs "
                                             "compare",
}

# BiaPy image-to-image options that are not built here: what BiaPy does with them (none
# left: every BiaPy 3.7.1 image-to-image option is built).
NOT_BUILT: dict[str, str] = {}


def key_note(key: str) -> str:
    """Why ``key`` (a BiaPy key that is not a field here) has no effect."""
    for table in (REASONS, NOT_BUILT):
        matches = [p for p in table if key.startswith(p)]
        if matches:
            return table[max(matches, key=len)]
    return "a BiaPy key that i2i_nb does not use"
