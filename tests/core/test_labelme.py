"""Labelme JSON read/write: Labelme's own files survive an edit; broken files give LabelFileError."""
from __future__ import annotations

import dataclasses
import io
import json
import shutil
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from core.annotation.polygons import mask_to_shapes, shapes_to_mask
from core.errors import LabelFileError
from core.annotation.shape import Shape
from core.io.labelme import LabelFile, read_label_file, write_label_file

DATA = Path(__file__).parent / "data"
AUTHORED = DATA / "labelme_authored.json"


def test_reads_a_file_written_by_labelme():
    label_file = read_label_file(AUTHORED)
    assert label_file.version == "6.3.1"
    assert (label_file.image_height, label_file.image_width) == (12, 16)
    assert label_file.image_path == "labelme_authored.png"
    assert label_file.flags == {"difficult": False}
    assert label_file.extra == {"otherTool": {"score": 0.5, "tags": ["a", "b"]}}
    assert [s.shape_type for s in label_file.shapes] == ["polygon", "polygon", "rectangle", "mask"]
    first = label_file.shapes[0]
    assert first.description == "outer" and first.flags == {"reviewed": True}
    assert first.extra == {"reviewer_note": "kept"}
    assert label_file.shapes[1].group_id == 1
    with PIL.Image.open(io.BytesIO(label_file.image_data)) as image:
        assert image.size == (16, 12)


def test_rasterizes_like_labelme_itself():
    """Reference PNG made by labelme.utils.shapes_to_label: polygon, hole, rectangle and mask shape."""
    label_file = read_label_file(AUTHORED)
    expected = np.asarray(PIL.Image.open(DATA / "labelme_authored_mandible.png")) > 0
    ours = shapes_to_mask(label_file.shapes, label_file.image_height, label_file.image_width)
    np.testing.assert_array_equal(ours.astype(bool), expected)


def test_edit_and_save_keeps_every_key(tmp_path):
    original = json.loads(AUTHORED.read_text())
    label_file = read_label_file(AUTHORED)
    edited = dataclasses.replace(label_file, shapes=label_file.shapes + (
        Shape(label="canal", points=((1.0, 1.0), (3.0, 1.0), (2.0, 3.0))),))
    out = tmp_path / "edited.json"
    write_label_file(out, edited)
    saved = json.loads(out.read_text())
    assert list(saved)[:7] == list(original)[:7]  # Labelme's own key order
    assert set(saved) == set(original)
    for key in original:
        if key != "shapes":
            assert saved[key] == original[key], key
    assert saved["shapes"][:4] == original["shapes"]
    assert saved["shapes"][4]["label"] == "canal"
    assert read_label_file(out) == edited


def test_round_trip_of_our_own_file_is_lossless(tmp_path):
    mask = np.zeros((20, 30), np.uint8)
    mask[3:15, 4:25] = 1
    mask[6:10, 8:12] = 0
    label_file = LabelFile(shapes=tuple(mask_to_shapes(mask)), image_path="0001.png", image_height=20,
                           image_width=30, extra={"mandibleStudio": {"slice_index": 1}})
    path = tmp_path / "0001.json"
    write_label_file(path, label_file)
    again = read_label_file(path)
    assert again == label_file
    raw = json.loads(path.read_text())
    assert raw["imageData"] is None and raw["version"] == "5.5.0"
    np.testing.assert_array_equal(shapes_to_mask(again.shapes, 20, 30), mask)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.json"
    path.write_text(text)
    return path


def _valid() -> dict:
    return json.loads(AUTHORED.read_text())


def test_broken_json_syntax_names_file_and_problem(tmp_path):
    path = _write(tmp_path, AUTHORED.read_text()[:-40])
    with pytest.raises(LabelFileError, match=r"broken\.json is not valid JSON"):
        read_label_file(path)


@pytest.mark.parametrize("key", ["shapes", "imagePath", "imageData"])
def test_missing_top_level_key(tmp_path, key):
    data = _valid()
    del data[key]
    with pytest.raises(LabelFileError, match=rf"broken\.json.*missing key.*{key}"):
        read_label_file(_write(tmp_path, json.dumps(data)))


@pytest.mark.parametrize("key", ["label", "points", "shape_type"])
def test_missing_shape_key(tmp_path, key):
    data = _valid()
    del data["shapes"][1][key]
    with pytest.raises(LabelFileError, match=rf"missing key.*shape 1 {key}"):
        read_label_file(_write(tmp_path, json.dumps(data)))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.__setitem__("shapes", {}), "shapes must be list"),
    (lambda d: d["shapes"][0].__setitem__("label", 3), "label must be str"),
    (lambda d: d["shapes"][0].__setitem__("points", [[1, 2, 3]]), r"points must be a list of \[x, y\]"),
    (lambda d: d["shapes"][0].__setitem__("points", []), "has no points"),
    (lambda d: d["shapes"][0].__setitem__("group_id", "one"), "group_id must be an integer"),
    (lambda d: d["shapes"][0].__setitem__("flags", {"a": 1}), "flags must map names to true/false"),
    (lambda d: d["shapes"][3].__setitem__("mask", "not-a-png"), "broken.json is not a valid Labelme file"),
    (lambda d: d.__setitem__("imageHeight", "12"), "imageHeight must be a positive integer"),
    (lambda d: d.__setitem__("imageData", 5), "imageData must be str or NoneType"),
])
def test_wrong_types(tmp_path, change, message):
    data = _valid()
    change(data)
    with pytest.raises(LabelFileError, match=message):
        read_label_file(_write(tmp_path, json.dumps(data)))


def test_top_level_must_be_object(tmp_path):
    with pytest.raises(LabelFileError, match="top level must be a JSON object"):
        read_label_file(_write(tmp_path, "[1, 2]"))


def test_missing_size_is_taken_from_the_image_beside_it(tmp_path):
    data = _valid()
    data["imageData"] = None
    del data["imageHeight"], data["imageWidth"]
    PIL.Image.new("L", (16, 12)).save(tmp_path / "labelme_authored.png")
    label_file = read_label_file(_write(tmp_path, json.dumps(data)))
    assert (label_file.image_height, label_file.image_width) == (12, 16)


def test_unreadable_file_and_reserved_extra_key(tmp_path):
    with pytest.raises(LabelFileError, match="cannot read Labelme file"):
        read_label_file(tmp_path / "absent.json")
    bad = LabelFile(shapes=(), image_path="x.png", image_height=2, image_width=2, extra={"imageData": "x"})
    with pytest.raises(LabelFileError, match="reserved"):
        write_label_file(tmp_path / "x.json", bad)
    assert not (tmp_path / "x.json").exists()


def test_windows_image_path_is_normalised(tmp_path):
    data = _valid()
    data["imagePath"] = "images\\0001.png"
    assert read_label_file(_write(tmp_path, json.dumps(data))).image_path == "images/0001.png"


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "keep.json"
    shutil.copy(AUTHORED, path)
    before = path.read_bytes()
    unserialisable = dataclasses.replace(read_label_file(path), extra={"bad": object()})
    with pytest.raises(LabelFileError, match="cannot write"):
        write_label_file(path, unserialisable)
    assert path.read_bytes() == before


@pytest.mark.process
@pytest.mark.shared
@pytest.mark.slow
def test_labelme_reads_our_edit_of_its_file(tmp_path):
    """After our edit and save, Labelme itself still opens the file and sees the mask we see."""
    from tests.support.labelme import run_labelme_check, save_mask_png

    label_file = read_label_file(AUTHORED)
    canal = Shape("_background_", ((6.0, 7.0), (10.0, 7.0), (10.0, 8.0)), extra={"note": "canal"})
    edited = dataclasses.replace(label_file, shapes=label_file.shapes + (canal,))
    write_label_file(tmp_path / "json" / "edited.json", edited)
    ours = shapes_to_mask(edited.shapes, 12, 16)
    assert ours.sum() < shapes_to_mask(label_file.shapes, 12, 16).sum()
    save_mask_png(tmp_path / "masks" / "edited.png", ours)
    assert run_labelme_check(tmp_path / "json", tmp_path / "masks")["min_iou"] == 1.0
