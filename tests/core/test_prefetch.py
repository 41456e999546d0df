"""Preparing the next batch in a worker thread changes nothing the user sees: the same masks in the same order,
cancel still stops, a preprocessing error surfaces as itself (docs/decisions/125); a compiled network that cannot
compile falls back to the same masks, and a compiled one sees one batch shape (docs/decisions/126)."""
from __future__ import annotations

import logging
import threading

import numpy as np
import pytest
import torch

import core.inference.segmenter as segmenter_module
from core.errors import Cancelled, InputError
from core.inference.prefetch import prefetched
from core.inference.segmenter import Segmenter
from core.model.model_file import LoadedModel
from core.model.unet import MandibleUNet
from core.volume import Volume
from tests.support.models import TINY

MANDIBLE_SLICES = list(range(50, 62))  # slices through the bundled sample's mandible
HANG = 30.0  # seconds: only to stop a hang, never a timing assertion


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "prefetch"]


def test_prefetch_runs_the_next_item_while_the_caller_holds_the_current_one():
    started = [threading.Event() for _ in range(3)]

    def prepare(n):
        started[n].set()
        return n * 10

    items = prefetched(range(3), prepare, depth=1)
    assert next(items) == 0
    assert started[1].wait(HANG), "item 1 was not prepared while the caller held item 0"
    assert list(items) == [10, 20]
    assert not _prefetch_threads()


def test_prefetch_keeps_order_however_long_each_item_takes():
    delays = [0.03, 0.0, 0.02, 0.0, 0.01, 0.0]
    items = list(prefetched(range(len(delays)), lambda n: threading.Event().wait(delays[n]) or n, depth=2))
    assert items == list(range(len(delays)))


def test_a_caller_that_stops_early_stops_the_worker():
    prepared = []
    items = prefetched(range(100), lambda n: prepared.append(n) or n, depth=2)
    assert next(items) == 0
    items.close()
    assert not _prefetch_threads()
    assert len(prepared) <= 4  # the one taken, two queued, one that was waiting for room


def test_prefetch_on_and_off_give_bit_identical_predictions_on_the_bundled_sample(sample_volume, starter):
    results = {}
    for depth in (0, 2):
        segmenter = Segmenter(starter, "cpu", batch_size=4, prefetch=depth)
        results[depth] = list(segmenter.predict(sample_volume, MANDIBLE_SLICES))
    before, after = results[0], results[2]
    assert [(p.index, p.revised) for p in after] == [(p.index, p.revised) for p in before]
    assert sum(int(p.mask.sum()) for p in before) > 300, "the starter found no mandible: nothing was compared"
    for old, new in zip(before, after):
        assert np.array_equal(old.mask, new.mask) and old.confidence == new.confidence


def _air_segmenter(batch_size: int = 2, prefetch: int = 1, compile: str = "off") -> Segmenter:
    torch.manual_seed(0)
    network = MandibleUNet(TINY)
    return Segmenter(LoadedModel(network, network.config), "cpu", batch_size=batch_size, prefetch=prefetch,
                     compile=compile)


def test_cancel_mid_run_stops_the_prediction_and_its_worker(monkeypatch):
    volume = Volume(hu=np.full((20, 40, 40), -1000, np.int16), spacing=(3.0, 4.0, 4.0), name="air")
    prepared = []
    original = segmenter_module.hu_slices
    monkeypatch.setattr(segmenter_module, "hu_slices",
                        lambda vol, batch, config: prepared.append(batch) or original(vol, batch, config))
    cancel = threading.Event()
    seen = []
    with pytest.raises(Cancelled, match="after 4 of 20"):
        for prediction in _air_segmenter(prefetch=2).predict(volume, cancel=cancel):
            seen.append(prediction.index)
            if prediction.index == 3:
                cancel.set()
    assert seen == [0, 1, 2, 3]
    assert not _prefetch_threads()
    assert len(prepared) <= 2 + 3  # the batches used, and at most the prefetch depth + 1 ahead


def test_an_error_in_preprocessing_surfaces_as_the_same_error_after_the_slices_before_it(monkeypatch):
    volume = Volume(hu=np.full((8, 40, 40), -1000, np.int16), spacing=(3.0, 4.0, 4.0), name="air")
    error = InputError("slice 4 could not be read; open the series again")
    original = segmenter_module.hu_slices

    def failing(vol, batch, config):
        if 4 in batch:
            raise error
        return original(vol, batch, config)

    monkeypatch.setattr(segmenter_module, "hu_slices", failing)
    seen = []
    with pytest.raises(InputError) as raised:
        for prediction in _air_segmenter(prefetch=1).predict(volume):
            seen.append(prediction.index)
    assert raised.value is error
    assert seen == [0, 1, 2, 3]
    assert not _prefetch_threads()


def test_a_network_that_cannot_compile_runs_eagerly_with_the_reason_logged(monkeypatch, caplog):
    volume = Volume(hu=np.random.default_rng(0).normal(0, 400, (3, 40, 40)).astype(np.int16),
                    spacing=(3.0, 4.0, 4.0), name="noise")
    eager = _air_segmenter(batch_size=2).predict_volume(volume)

    def cannot_compile(network, **options):
        def first_call(x):
            raise RuntimeError("no working C++ compiler found")
        return first_call

    monkeypatch.setattr(torch, "compile", cannot_compile)
    with caplog.at_level(logging.WARNING, logger="core.model.runtime"):
        fallen_back = _air_segmenter(batch_size=2, compile="max-autotune").predict_volume(volume)
    assert np.array_equal(fallen_back, eager)
    assert "no working C++ compiler found" in caplog.text and "eagerly" in caplog.text


def test_a_compiled_network_sees_one_batch_shape_and_gives_the_same_masks(monkeypatch):
    volume = Volume(hu=np.random.default_rng(1).normal(0, 400, (3, 40, 40)).astype(np.int16),
                    spacing=(3.0, 4.0, 4.0), name="noise")
    eager = _air_segmenter(batch_size=2).predict_volume(volume)
    shapes = []

    def recording_compile(network, **options):
        return lambda x: shapes.append(tuple(x.shape)) or network(x)

    monkeypatch.setattr(torch, "compile", recording_compile)
    compiled = _air_segmenter(batch_size=2, compile="default").predict_volume(volume)
    assert len(shapes) == 2 and set(shapes) == {(2, 3, 64, 64)}  # 3 slices: 2, then 1 padded to 2
    assert np.array_equal(compiled, eager)
