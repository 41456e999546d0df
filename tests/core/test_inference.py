"""Preprocessing keeps the aspect ratio and the millimetre scale; masks come back on the slice grid."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from core.errors import Cancelled
from core.inference import segmenter as segmenter_module
from core.inference.postprocess import PredictionPolicy, runs, slice_masks, whole_run_masks
from core.inference.slice_crops import SliceCrops
from core.model.preprocess import SliceGeometry, hu_slices
from core.inference.segmenter import Segmenter
from core.volume import Volume
from core.model.config import ModelConfig
from core.model.model_file import LoadedModel
from core.model.unet import MandibleUNet
from core.training.metrics import confusion, dice

CONFIG = ModelConfig(input_size=128, mm_per_pixel=2.0)


def test_a_wide_slice_is_padded_not_stretched():
    geometry = SliceGeometry.for_slice(100, 200, (1.0, 1.0), CONFIG)
    assert (geometry.resized_height, geometry.resized_width) == (50, 100)
    image = np.zeros((100, 200), np.float32)
    image[40:60, 90:110] = 1000.0  # a 20 x 20 mm square
    canvas = geometry.to_model(image, fill=-1024.0)
    rows, cols = np.nonzero(canvas > 500)
    assert np.ptp(rows) + 1 == pytest.approx(10, abs=1) and np.ptp(cols) + 1 == pytest.approx(10, abs=1)
    assert canvas[0, 0] == -1024.0 and canvas[64, 64] == 1000.0


def test_the_same_anatomy_has_the_same_size_at_any_pixel_spacing():
    dental = SliceGeometry.for_slice(512, 512, (0.3, 0.3), CONFIG)  # 154 mm field of view
    openkbp = SliceGeometry.for_slice(128, 128, (3.9, 3.9), CONFIG)  # 500 mm field of view
    assert dental.resized_height == round(512 * 0.3 / 2.0)
    assert openkbp.resized_height == round(128 * 3.9 / 2.0)  # larger than 128: cropped around the centre
    assert openkbp.offset[0] < 0


@pytest.mark.parametrize("spacing", [(0.3, 0.3), (3.9, 3.9), (1.0, 0.5), None])
def test_a_mask_survives_the_round_trip_to_the_canvas_and_back(spacing):
    geometry = SliceGeometry.for_slice(120, 160, spacing, CONFIG)
    mask = np.zeros((120, 160), np.float32)
    mask[40:80, 55:105] = 1.0  # central: a 3.9 mm grid is cropped to the 256 mm field of view
    back = geometry.to_original(geometry.to_model(mask, fill=0.0)) > 0.5
    assert dice(confusion(back, mask)) > 0.95


def test_image_stacks_without_hu_are_read_through_the_bone_window():
    values = np.zeros((1, 64, 64), np.uint8)
    values[0, :, 32:] = 255
    volume = Volume(hu=values, spacing=(1.0, 0.0, 0.0), name="png", units="display")  # no pixel spacing: fit
    canvas, _ = hu_slices(volume, [0], CONFIG)
    _, center, width = CONFIG.windows[0]
    assert canvas[0, 64, 0] == pytest.approx(center - width / 2)
    assert canvas[0, 64, -1] == pytest.approx(center + width / 2)


def test_the_policy_fills_holes_per_slice_and_drops_islands_per_run_of_adjacent_slices():
    mask = np.zeros((3, 40, 40), np.uint8)
    mask[:, 5:30, 5:30] = 1
    mask[1, 15:18, 15:18] = 0  # hole
    mask[2, 36, 36] = 1  # island
    policy = PredictionPolicy(refine=False)  # the clean-up alone (refinement: tests/core/test_refine.py)
    filled = slice_masks(mask.astype(np.float32), mask.astype(np.float32), (1.0, 1.0, 1.0), "HU", policy)
    assert filled[1, 16, 16] == 1 and filled[2, 36, 36] == 1
    revised = dict(whole_run_masks(_crops({i: m for i, m in enumerate(filled)}), range(3), True, policy))
    assert list(revised) == [2] and revised[2][36, 36] == 0 and revised[2][5:30, 5:30].all()
    alone = {0: filled[0], 5: np.pad(np.ones((2, 2), np.uint8), ((0, 38), (0, 38)))}  # not adjacent: judged alone
    assert dict(whole_run_masks(_crops(alone), [0, 5], True, policy)) == {}
    assert dict(whole_run_masks(_crops(dict(enumerate(filled))), range(3), True, PredictionPolicy(False, False))) == {}
    assert runs([1, 2, 3, 7, 8], adjacent=True) == [[1, 2, 3], [7, 8]]
    assert runs([1, 2], adjacent=False) == [[1], [2]]


def _crops(masks: dict[int, np.ndarray]) -> SliceCrops:
    crops = SliceCrops((8, 40, 40), np.uint8)
    for index, mask in masks.items():
        crops.put(index, mask)
    return crops


def test_slice_crops_keep_only_what_is_above_the_floor_and_give_it_back_in_place():
    crops = SliceCrops((4, 30, 50), np.float16, floor=0.005)
    plane = np.zeros((30, 50), np.float32)
    plane[10:14, 20:31] = 0.75
    plane[12, 40] = 0.004  # below the floor: reads back as 0
    crops.put(1, plane)
    crops.put(2, np.zeros((30, 50), np.float32))
    assert crops.nbytes == 4 * 11 * 2, "one float16 box of the values above the floor, nothing for an empty slice"
    np.testing.assert_array_equal(crops[1], np.where(plane > 0.005, plane, 0).astype(np.float16))
    assert not crops[2].any() and not crops[3].any()
    box, stack = crops.region([0, 1, 2])
    assert box == (slice(0, 3), slice(10, 14), slice(20, 31)) and stack.shape == (3, 4, 11) and stack[1].all()
    window = crops.window(1, 3)
    assert window.shape == (2, 30, 50) and window[0][11, 25] == np.float16(0.75)
    with pytest.raises(ValueError, match="shape"):
        crops.put(0, np.zeros((30, 49)))


def test_not_live_the_slices_come_thresholded_and_the_final_masks_are_the_live_ones(monkeypatch):
    """The command line's path refines each run once: the same last mask per slice as the app's live path."""
    volume, segmenter = _blocks_segmenter(monkeypatch)
    calls = []
    real = segmenter_module.slice_masks
    monkeypatch.setattr(segmenter_module, "slice_masks",
                        lambda *args, **kwargs: calls.append(args[4].refine) or real(*args, **kwargs))
    live = {p.index: p.mask for p in segmenter.predict(volume, live=True)}
    assert calls and all(calls), "live: each batch is refined as it arrives"
    calls.clear()
    once = {p.index: p.mask for p in segmenter.predict(volume, live=False)}
    assert calls and not any(calls), "not live: the batches are only thresholded"
    assert live.keys() == once.keys() and all(np.array_equal(live[i], once[i]) for i in live)


def _blocks_segmenter(monkeypatch) -> tuple[Volume, Segmenter]:
    """A segmenter whose network sees _blocks' probability on an identity canvas."""
    volume, probability = _blocks()
    segmenter = _segmenter()
    monkeypatch.setattr(segmenter, "probabilities", lambda canvas: probability[: len(canvas)])
    monkeypatch.setattr("core.inference.segmenter.hu_slices",
                        lambda vol, batch, config: (np.zeros((len(batch), 40, 40)), _Identity(batch)))
    return volume, segmenter


def _blocks() -> tuple[Volume, np.ndarray]:
    volume = Volume(hu=np.zeros((4, 40, 40), np.int16), spacing=(2.0, 1.0, 1.0), name="blocks")
    probability = np.zeros((4, 40, 40), np.float32)
    probability[:, 5:30, 5:30] = 0.95
    probability[:, 5:30, 25:30] = 0.6  # an edge the model is unsure about: lower confidence
    probability[2, 36, 36] = 0.9
    volume.hu[probability > 0.5] = 1000  # bone under all of it, so that refinement keeps it ...
    volume.hu[:, 5:30, 25:30] = 300  # ... where the unsure edge is bone the CT does not show clearly either
    return volume, probability


def _segmenter() -> Segmenter:
    torch.manual_seed(0)
    network = MandibleUNet(ModelConfig(input_size=64, mm_per_pixel=8.0))
    return Segmenter(LoadedModel(network, network.config), device="cpu", batch_size=3)


def test_volume_prediction_reports_progress_keeps_the_grid_and_can_be_cancelled():
    volume = Volume(hu=np.full((7, 50, 70), -1000, np.int16), spacing=(3.0, 4.0, 4.0), name="air")
    segmenter = _segmenter()
    steps = []
    mask = segmenter.predict_volume(volume, progress=lambda s, t, m: steps.append((s, t)))
    assert mask.shape == (7, 50, 70) and mask.dtype == np.uint8
    assert steps == [(n, 7) for n in range(1, 8)]
    cancel = threading.Event()
    with pytest.raises(Cancelled, match="after 3 of 7"):
        segmenter.predict_volume(volume, progress=lambda s, t, m: cancel.set() if s == 3 else None, cancel=cancel)


def test_the_generator_yields_each_slice_then_the_ones_the_whole_run_step_revised(monkeypatch):
    """Slice 2 carries a small island only the 3-D step can judge: it is yielded, then yielded again, revised."""
    volume, segmenter = _blocks_segmenter(monkeypatch)
    results = list(segmenter.predict(volume, [0, 1, 2, 3]))
    assert [(p.index, p.revised) for p in results] == [(0, False), (1, False), (2, False), (3, False), (2, True)]
    first, revised = results[2], results[-1]
    assert first.mask[36, 36] == 1 and revised.mask[36, 36] == 0
    assert 0.0 < first.confidence < 1.0
    # measured on the mask shown: the revision left out a pixel the network and the CT both call bone
    assert revised.confidence < first.confidence
    assert np.array_equal(segmenter.predict_volume(volume)[2], revised.mask)


class _Identity:
    """A slice geometry that is the identity: the canvas is the slice."""

    def __init__(self, batch) -> None:
        self.batch = batch

    def to_original(self, probability):
        return probability


def test_bf16_and_fp32_give_the_same_probabilities_within_tolerance():
    torch.manual_seed(0)
    network = MandibleUNet(ModelConfig(input_size=64, mm_per_pixel=8.0))
    hu = np.random.default_rng(0).normal(0, 500, (2, 64, 64)).astype(np.float32)
    fp32 = Segmenter(LoadedModel(network, network.config), "cpu", "fp32").probabilities(hu)
    bf16 = Segmenter(LoadedModel(network, network.config), "cpu", "bf16").probabilities(hu)
    assert np.abs(fp32 - bf16).max() < 0.05
