"""Folders of PNG/JPEG/TIFF slices load as a Volume: natural order, 8 and 16 bit, grey, sizes checked."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.errors import InputError
from core.io.image_stack import load_image_stack
from core.io.loader import describe_input, load_volume
from core.windowing import display_window_for, hu_to_display


def _write(path, image):
    ok, data = cv2.imencode(path.suffix, image)  # never a path to OpenCV: it crashes on names that are not UTF-8
    assert ok
    data.tofile(path)


def test_8bit_pngs_load_in_natural_order_as_display_units(tmp_path):
    for index in (1, 2, 10):  # plain sorting would put slice10 before slice2
        _write(tmp_path / f"slice{index}.png", np.full((4, 6), index * 20, np.uint8))
    assert describe_input(tmp_path) == "images"
    volume = load_volume(tmp_path)
    assert volume.hu.dtype == np.uint8 and volume.shape == (3, 4, 6)
    assert volume.hu[:, 0, 0].tolist() == [20, 40, 200]
    assert volume.units == "display" and volume.name == tmp_path.name
    # 8-bit stacks are shown unchanged by their default window.
    assert np.array_equal(hu_to_display(volume.hu, display_window_for(volume)), volume.hu)


def test_16bit_tiffs_keep_their_values(tmp_path):
    ramp = np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000
    _write(tmp_path / "a_001.tif", ramp)
    _write(tmp_path / "a_002.tif", ramp + 1)
    volume = load_image_stack(tmp_path)
    assert volume.hu.dtype == np.uint16
    assert np.array_equal(volume.hu[1], ramp + 1)
    assert volume.hu.max() == 63001


def test_colour_images_become_grey(tmp_path):
    image = np.zeros((5, 5, 3), np.uint8)
    image[..., 1] = 200  # pure green (BGR)
    _write(tmp_path / "0.jpg", image)
    volume = load_image_stack(tmp_path)
    assert volume.shape == (1, 5, 5)
    assert abs(int(volume.hu[0, 2, 2]) - round(0.587 * 200)) <= 3


def test_mismatched_sizes_name_the_odd_file(tmp_path):
    _write(tmp_path / "1.png", np.zeros((4, 4), np.uint8))
    _write(tmp_path / "2.png", np.zeros((4, 5), np.uint8))
    with pytest.raises(InputError, match=r"2\.png is 5x4 pixels"):
        load_image_stack(tmp_path)


def test_unreadable_image_is_an_input_error(tmp_path):
    (tmp_path / "1.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="not a readable image"):
        load_volume(tmp_path)


def test_labelme_export_folder_is_recognised_and_opens_its_slice_images(tmp_path):
    _write(tmp_path / "0000.png", np.full((4, 4), 7, np.uint8))
    (tmp_path / "0000.json").write_text('{"shapes": []}')
    assert describe_input(tmp_path) == "labelme"
    assert describe_input(tmp_path / "0000.json") == "labelme"
    assert load_volume(tmp_path).hu[0, 0, 0] == 7
    with pytest.raises(InputError, match="open the folder"):
        load_volume(tmp_path / "0000.json")
