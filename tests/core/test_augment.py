"""Batched torch augmentation: what it draws is what the configured ranges say, the image and its label move
together, and the geometry is the one the earlier per-slice OpenCV path applied."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from core.model.preprocess import AIR_HU
from core.training.augment import Augmentation

SIZE = 128
WINDOWS = torch.tensor([[400.0, 1800.0], [500.0, 2000.0], [40.0, 400.0]])


def _generators(seed: int = 3) -> tuple[torch.Generator, torch.Generator]:
    return torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)


def _keyed_shape() -> np.ndarray:
    """A tilted-free ellipse with a knob on its right end: orientation, size and side can all be read back."""
    rows, cols = np.mgrid[:SIZE, :SIZE] - (SIZE - 1) / 2.0
    mask = (cols / 36.0) ** 2 + (rows / 12.0) ** 2 <= 1.0
    mask |= ((cols - 38.0) ** 2 + rows ** 2) <= 7.0 ** 2
    return mask.astype(np.uint8)


def _read_back(mask: np.ndarray) -> tuple[float, float, bool]:
    """(angle counter-clockwise on screen in degrees, area, knob on the left) from a mask's moments."""
    m = cv2.moments(mask, binaryImage=True)
    angle = 0.5 * np.degrees(np.arctan2(2 * m["mu11"], m["mu20"] - m["mu02"]))
    return -angle, m["m00"], m["m10"] / m["m00"] < (SIZE - 1) / 2.0


def test_recovered_rotation_scale_and_flip_match_the_draws_and_the_configured_ranges():
    augmentation = Augmentation()
    count = 96
    label = torch.from_numpy(_keyed_shape()).expand(count, SIZE, SIZE).contiguous()
    hu = torch.where(label > 0, 1000.0, 0.0).unsqueeze(1)
    for_draw, for_apply = _generators()
    drawn = augmentation.draw(count, for_draw)
    _, moved, _ = augmentation.apply(hu, label, WINDOWS.expand(count, 3, 2), for_apply)
    _, area, _ = _read_back(_keyed_shape())
    for index in range(count):
        angle, moved_area, flipped = _read_back(moved[index].numpy())
        assert flipped == bool(drawn.flip[index])
        expected = -drawn.angle_deg[index] if flipped else drawn.angle_deg[index]  # a mirror turns the tilt
        assert angle == pytest.approx(float(expected), abs=1.0)
        assert np.sqrt(moved_area / area) == pytest.approx(float(drawn.zoom[index]), abs=0.02)


def test_draws_fill_the_configured_ranges_uniformly():
    augmentation = Augmentation()
    drawn = augmentation.draw(4000, torch.Generator().manual_seed(0))
    for values, low, high in ((drawn.angle_deg, -10, 10), (drawn.zoom, 0.9, 1.1), (drawn.gain, 0.95, 1.05),
                              (drawn.offset_hu, -30, 30), (drawn.noise_sigma, 0, 20),
                              (drawn.window_jitter, -0.1, 0.1)):
        values = values.double()
        assert low <= values.min() and values.max() <= high
        assert values.min() < low + 0.02 * (high - low) and values.max() > high - 0.02 * (high - low)
        assert float(values.mean()) == pytest.approx((low + high) / 2, abs=0.03 * (high - low))
        assert float(values.std()) == pytest.approx((high - low) / 12 ** 0.5, rel=0.05)  # uniform
    assert float(drawn.flip.double().mean()) == pytest.approx(0.5, abs=0.03)
    assert not Augmentation(flip=False).draw(100, torch.Generator().manual_seed(0)).flip.any()


def test_gain_offset_noise_and_window_jitter_are_the_drawn_ones():
    augmentation = Augmentation(rotation_deg=0.0, scale=0.0, flip=False)
    count = 64
    hu = torch.zeros(count, 1, SIZE, SIZE)
    hu[:, :, :, SIZE // 2:] = 1000.0
    label = (hu[:, 0] > 0).to(torch.uint8)
    for_draw, for_apply = _generators(7)
    drawn = augmentation.draw(count, for_draw)
    out, moved, windows = augmentation.apply(hu, label, WINDOWS.expand(count, 3, 2), for_apply)
    assert torch.equal(moved, label)  # no geometry: the label is untouched
    low, high = out[:, 0, :, :SIZE // 2], out[:, 0, :, SIZE // 2:]
    torch.testing.assert_close(high.mean((1, 2)) - low.mean((1, 2)), 1000.0 * drawn.gain, atol=1.5, rtol=0)
    torch.testing.assert_close(low.mean((1, 2)), drawn.offset_hu, atol=1.5, rtol=0)
    torch.testing.assert_close(low.std((1, 2)), drawn.noise_sigma, atol=0.6, rtol=0.03)
    centre_shift = (windows[..., 0] - WINDOWS[:, 0]) / WINDOWS[:, 1]
    torch.testing.assert_close(centre_shift, drawn.window_jitter[..., 0])
    torch.testing.assert_close(windows[..., 1] / WINDOWS[:, 1] - 1.0, drawn.window_jitter[..., 1])


def test_image_and_label_stay_aligned_when_the_label_is_a_threshold_of_the_image():
    rng = np.random.default_rng(0)
    count = 16
    field = np.stack([cv2.GaussianBlur(rng.normal(size=(SIZE, SIZE)).astype(np.float32), (0, 0), 6)
                      for _ in range(count)])
    bone = field > np.quantile(field, 0.7)
    hu = torch.from_numpy(np.where(bone, 1000.0, 0.0).astype(np.float32)).unsqueeze(1)
    label = torch.from_numpy(bone.astype(np.uint8))
    out, moved, _ = Augmentation().apply(hu, label, WINDOWS.expand(count, 3, 2), torch.Generator().manual_seed(1))
    threshold = out[:, 0] > 500.0
    inside = out[:, 0] > AIR_HU + 100  # what came from inside the original image
    agree = (threshold == moved.bool())[inside].float().mean()
    assert float(agree) > 0.985  # only pixels on the bone's edge may differ (bilinear vs nearest)
    assert not moved.bool()[~inside].any()  # outside the original image: background, and air in the image


def test_the_geometry_is_that_of_the_opencv_path_it_replaces():
    rng = np.random.default_rng(2)
    image = cv2.GaussianBlur(rng.normal(0, 400, (SIZE, SIZE)).astype(np.float32), (0, 0), 3)
    augmentation = Augmentation(gain=0.0, offset_hu=0.0, noise_hu=0.0)
    generator = torch.Generator().manual_seed(5)
    drawn = augmentation.draw(8, torch.Generator().manual_seed(5))
    hu = torch.from_numpy(image).expand(8, 1, SIZE, SIZE).contiguous()
    out, _, _ = augmentation.apply(hu, torch.zeros(8, SIZE, SIZE, dtype=torch.uint8), WINDOWS.expand(8, 3, 2),
                                   generator)
    for index in range(8):
        matrix = cv2.getRotationMatrix2D(((SIZE - 1) / 2.0, (SIZE - 1) / 2.0), float(drawn.angle_deg[index]),
                                         float(drawn.zoom[index]))
        expected = cv2.warpAffine(image, matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=AIR_HU)
        if drawn.flip[index]:
            expected = expected[:, ::-1]
        core = (slice(8, -8), slice(8, -8))  # the borders differ by sub-pixel edge handling only
        assert np.abs(out[index, 0].numpy()[core] - expected[core]).mean() < 0.02 * image.std()


def test_the_same_generator_seed_repeats_the_batch_exactly():
    hu = torch.randn(4, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 300
    label = (hu[:, 0] > 0).to(torch.uint8)
    first = Augmentation().apply(hu, label, WINDOWS.expand(4, 3, 2), torch.Generator().manual_seed(9))
    again = Augmentation().apply(hu, label, WINDOWS.expand(4, 3, 2), torch.Generator().manual_seed(9))
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert first[0].shape == (4, 3, 64, 64)  # a slice and its neighbours move together
