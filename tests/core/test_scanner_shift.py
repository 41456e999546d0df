"""Scanner-variety augmentation (core/training/scanner_shift.py): a monotone grey map in range, the field of
view's outside air in the image and background in the label, and nothing at all when the switch is off."""
from __future__ import annotations

import dataclasses
import json

import torch

from core.calibration import AIR_HU
from core.training.augment import Augmentation
from core.training.config import TrainingConfig
from core.training.scanner_shift import ScannerShift
from core.training.slices import epoch_generator

SIZE = 64


def _batch(count: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """A ramp from air to 2000 HU across the columns, and a mandible box right of the middle."""
    ramp = torch.linspace(-1000.0, 2000.0, SIZE).expand(count, 1, SIZE, SIZE).clone()
    labels = torch.zeros(count, SIZE, SIZE, dtype=torch.uint8)
    labels[:, 24:40, 30:44] = 1
    return ramp, labels


def test_the_grey_map_is_monotone_keeps_air_and_stays_in_range():
    shift = ScannerShift(noise_hu=0.0, cupping=0.0, field_chance=0.0)
    hu, labels = _batch()
    out, out_labels = shift.apply(hu.clone(), labels, epoch_generator(0, 0, torch.device("cpu")))
    assert torch.equal(out_labels, labels)
    steps = out[:, 0].diff(dim=-1)
    assert bool((steps >= 0).all()), "every draw keeps the order of grey values"
    assert out[:, 0, :, 0].sub(-1000.0).abs().max() <= shift.offset_hu + 1e-3, "air stays air"
    bone = out[:, 0, 0, -1]  # what 2000 HU became
    assert float(bone.min()) > 600.0 and float(bone.max()) < 3500.0
    assert float(bone.max() - bone.min()) > 200.0, "the draws differ: bone moves between samples"


def test_outside_the_field_of_view_the_image_is_air_and_the_label_background():
    shift = ScannerShift(field_chance=1.0, field_mm=(120.0, 120.0), field_shift_mm=0.0, mm_per_pixel=2.0)
    hu, labels = _batch(4)
    labels[:, 20:44, 26:48] = 1  # within 30 px (the 120 mm field at 2 mm a pixel) of its centroid
    out, out_labels = shift.apply(hu.clone(), labels, epoch_generator(1, 0, torch.device("cpu")))
    rows = torch.arange(SIZE).view(-1, 1).float()
    cols = torch.arange(SIZE).view(1, -1).float()
    centre_r, centre_c = 31.5, 36.5  # the box's centroid: the field is centred on the mandible
    outside = torch.hypot(rows - centre_r, cols - centre_c) > 30.0
    assert bool((out[:, 0][:, outside] == AIR_HU).all())
    assert not bool(out_labels[:, outside].any())
    assert torch.equal(out_labels[:, ~outside], labels[:, ~outside]), "inside, the label is where the image is"
    assert bool((out[:, 0][:, ~outside] != AIR_HU).any())


def test_with_the_switch_off_the_augmentation_and_the_resume_fingerprint_are_what_they_were():
    config = TrainingConfig(data=["d"], out="m.msmodel")
    assert config.scanner_augment is False
    settings = json.loads(config.fingerprint(["a"], ["b"]))["settings"]
    assert "scanner_augment" not in settings, "checkpoints of runs started before the switch still resume"
    assert "scanner_augment" in json.loads(dataclasses.replace(config, scanner_augment=True).fingerprint([], []))[
        "settings"]
    hu, labels = _batch(4)
    windows = torch.tensor([[400.0, 1800.0], [1000.0, 4000.0], [40.0, 400.0]]).expand(4, 3, 2)
    plain = Augmentation().apply(hu.clone(), labels, windows, epoch_generator(3, 1, torch.device("cpu")))
    shifted = Augmentation(scanner=ScannerShift(field_chance=0.0)).apply(
        hu.clone(), labels, windows, epoch_generator(3, 1, torch.device("cpu")))
    assert torch.equal(plain[1], shifted[1]), "the scanner shift moves no pixel: the geometry draws are the same"
    assert not torch.equal(plain[0], shifted[0])
