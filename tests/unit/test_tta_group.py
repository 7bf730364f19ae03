"""TEST.AUGMENTATION_GROUP: which orientations test-time augmentation predicts (BiaPy's)."""

import numpy as np
import pytest
import torch

from i2i_nb.config import config_from_dict
from i2i_nb.errors import ConfigError
from i2i_nb.tta import predict_tta, tta_variants

CPU = torch.device("cpu")


class _Recorder(torch.nn.Module):
    """Doubles its input and keeps every input it is shown (channel-first tiles)."""

    def __init__(self, ndim: int) -> None:
        super().__init__()
        self.ndim, self.divisor = ndim, (1,) * ndim
        self.halo, self.receptive_field = (0,) * ndim, (0,) * ndim
        self.seen: list[np.ndarray] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.extend(t[0].numpy().copy() for t in x)
        return 2 * x


def _predict(image: np.ndarray, ndim: int, group: str) -> tuple[np.ndarray, _Recorder]:
    model = _Recorder(ndim).eval()
    out = predict_tta(model, image, ndim, group=group, tile_shape=None, overlap=None,
                      batch_size=1, device=CPU, amp=False)
    return out, model


def _flips(image: np.ndarray) -> list[np.ndarray]:
    """Every combination of axis flips of ``image`` (no axis swapped)."""
    views = [image]
    for axis in range(image.ndim):
        views += [np.flip(v, axis) for v in views]
    return views


@pytest.mark.parametrize(("ndim", "group", "passes"), [
    (2, "auto", 8), (2, "full", 8), (2, "flips", 4), (2, "none", 1),
    (3, "auto", 16), (3, "full", 16), (3, "flips", 8), (3, "none", 1)])
def test_each_group_predicts_its_number_of_orientations(ndim, group, passes):
    shape = (3, 5, 7)[-ndim:]  # no two axes alike: a swapped axis shows in the shape
    image = np.arange(np.prod(shape), dtype=np.float32).reshape(*shape, 1)
    out, model = _predict(image, ndim, group)
    assert len(tta_variants(ndim, group)) == len(model.seen) == passes
    np.testing.assert_allclose(out, 2 * image, atol=1e-5)  # every orientation undone
    swapped = [s.shape for s in model.seen if s.shape != shape]
    if group in ("auto", "full"):
        # half the orientations swap y and x, z never moves
        assert swapped == [shape[:-2] + shape[-1:-3:-1]] * (passes // 2)
    else:
        assert swapped == []


@pytest.mark.parametrize("ndim", [2, 3])
def test_flips_group_shows_exactly_the_axis_flips(ndim):
    shape = (3, 5, 7)[-ndim:]
    image = np.random.default_rng(0).random(shape, np.float32)
    _, model = _predict(image[..., None], ndim, "flips")
    seen = sorted(s.tobytes() for s in model.seen)
    assert seen == sorted(np.ascontiguousarray(v).tobytes() for v in _flips(image))


def test_group_is_validated_naming_the_key():
    assert config_from_dict({"TEST": {"AUGMENTATION_GROUP": "flips"}}).test.augmentation_group \
        == "flips"
    with pytest.raises(ConfigError, match="TEST.AUGMENTATION_GROUP"):
        config_from_dict({"TEST": {"AUGMENTATION_GROUP": "rotations"}})
