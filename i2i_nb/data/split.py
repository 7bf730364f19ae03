"""Validation pairs taken from the training pairs, as BiaPy's ``DATA.VAL`` keys say."""

from __future__ import annotations

from typing import TypeVar

import numpy as np

from i2i_nb.config.data import ValDataConfig

T = TypeVar("T")


def validation_split(pairs: list[T], val: ValDataConfig, seed: int) -> tuple[list[T], list[T]]:
    """``(train, validation)`` from ``pairs`` in name order.

    ``SPLIT_TRAIN`` is the validation fraction (at least one pair, at most all but one);
    ``RANDOM`` draws it with ``seed``, else the last pairs are taken (as scikit-learn's
    ``train_test_split(shuffle=False)``, which BiaPy uses). With ``CROSS_VAL`` the pairs
    are cut into ``CROSS_VAL_NFOLD`` folds (seeded shuffle when ``RANDOM``) and fold
    ``CROSS_VAL_FOLD`` (1-based) validates.
    """
    order = (np.random.default_rng(seed).permutation(len(pairs)) if val.random
             else np.arange(len(pairs)))
    if val.cross_val:
        folds = np.array_split(order, val.cross_val_nfold)
        chosen = set(folds[val.cross_val_fold - 1].tolist())
    else:
        if len(pairs) < 2 or val.split_train <= 0:
            return pairs, []
        n_val = min(len(pairs) - 1, max(1, round(len(pairs) * val.split_train)))
        chosen = set(order[:n_val].tolist() if val.random else order[-n_val:].tolist())
    return ([p for i, p in enumerate(pairs) if i not in chosen],
            [p for i, p in enumerate(pairs) if i in chosen])
