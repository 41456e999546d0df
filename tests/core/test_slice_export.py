"""One slice as PNG + Labelme JSON: opens in Labelme with the same mask, holes kept, no patient data."""
from __future__ import annotations

import json

import numpy as np
import PIL.Image
import pydicom
import pytest

from core.errors import LabelFileError
from core.io.dicom import load_dicom_series
from core.annotation.shape import Shape
from core.io.labelme import read_label_file, write_label_file
from core.io.slice_export import (PROVENANCE_KEY, export_slice, export_volume, labelled_slice_index, read_slice_mask,
                                  slice_index_of, slice_stem)
from core.volume import Volume
from core.windowing import WINDOW_PRESETS, hu_to_display
from tests.support.paths import shared_path
from tests.support.labelme import run_labelme_check, save_mask_png

BONE = WINDOW_PRESETS["bone"]


def _volume(slices: int = 3, rows: int = 48, cols: int = 64) -> Volume:
    rng = np.random.default_rng(1)
    hu = rng.integers(-1000, 2000, size=(slices, rows, cols)).astype(np.int16)
    return Volume(hu=hu, spacing=(3.0, 0.5, 0.75), name="synthetic", series_uid="1.2.3.4",
                  sop_uids=[f"1.2.3.4.{i}" for i in range(slices)])


def _mandible_with_canal(rows: int = 48, cols: int = 64) -> np.ndarray:
    yy, xx = np.mgrid[:rows, :cols]
    mask = (np.abs(yy - 24) < 12) & (np.abs(xx - 30) < 22)
    mask &= ~((np.hypot(yy - 24, xx - 20) < 5) | (np.hypot(yy - 24, xx - 40) < 3))  # marrow + canal
    mask[23:26, 19:22] = True  # a bone island inside the marrow
    mask[10:13, 50:55] = False  # a notch in the outline
    return mask.astype(np.uint8)


def test_export_writes_png_and_json_side_by_side(tmp_path):
    volume, mask = _volume(), _mandible_with_canal()
    json_path = export_slice(tmp_path, 2, volume, mask, BONE)
    assert json_path == tmp_path / "0003.json"  # the third slice: the number a user sees, counted from 1
    png = np.asarray(PIL.Image.open(tmp_path / "0003.png"))
    assert png.dtype == np.uint8 and png.shape == (48, 64)
    np.testing.assert_array_equal(png, hu_to_display(volume.hu[2], BONE))
    raw = json.loads(json_path.read_text())
    assert raw["imagePath"] == "0003.png" and raw["imageData"] is None
    assert (raw["imageHeight"], raw["imageWidth"]) == (48, 64)
    provenance = raw[PROVENANCE_KEY]
    assert provenance["series_uid"] == "1.2.3.4" and provenance["sop_instance_uid"] == "1.2.3.4.2"
    assert provenance["slice_index"] == 2 and provenance["pixel_spacing_mm"] == [0.5, 0.75]
    assert provenance["window"] == {"center": BONE.center, "width": BONE.width}
    read_back, _ = read_slice_mask(json_path, 48, 64)
    np.testing.assert_array_equal(read_back, mask)


def test_embedded_image_and_size_check(tmp_path):
    volume = _volume()
    json_path = export_slice(tmp_path, 0, volume, _mandible_with_canal(), BONE, embed_image=True)
    label_file = read_label_file(json_path)
    assert label_file.image_data == (tmp_path / "0001.png").read_bytes()
    with pytest.raises(LabelFileError, match="48x64 image, but the slice is 50x64"):
        read_slice_mask(json_path, 50, 64)


@pytest.mark.process
@pytest.mark.shared
@pytest.mark.slow
def test_labelme_opens_export_with_the_same_mask_and_holes(tmp_path):
    volume, mask = _volume(), _mandible_with_canal()
    out, masks = tmp_path / "out", tmp_path / "masks"
    export_slice(out, 1, volume, mask, BONE)
    filled = np.zeros_like(mask)
    filled[5:40, 5:60] = 1
    export_slice(out, 2, volume, filled, BONE, embed_image=True)
    save_mask_png(masks / f"{slice_stem(1)}.png", mask)
    save_mask_png(masks / f"{slice_stem(2)}.png", filled)
    summary = run_labelme_check(out, masks)
    assert summary["files"] == 2 and summary["min_iou"] == 1.0


def test_reexport_keeps_keys_and_other_labels_added_in_labelme(tmp_path):
    volume, mask = _volume(), _mandible_with_canal()
    json_path = export_slice(tmp_path, 0, volume, mask, BONE)
    edited = read_label_file(json_path)
    tooth = Shape("tooth", ((1.0, 1.0), (6.0, 1.0), (6.0, 6.0)), extra={"score": 0.9})
    write_label_file(json_path, type(edited)(
        shapes=edited.shapes + (tooth,), image_path=edited.image_path, image_height=48, image_width=64,
        flags={"reviewed": True}, extra={**edited.extra, "otherTool": [1, 2]}))
    new_mask = np.zeros_like(mask)
    new_mask[20:30, 20:30] = 1
    export_slice(tmp_path, 0, volume, new_mask, BONE, extra={"status": "EDITED"})
    again = read_label_file(json_path)
    assert again.flags == {"reviewed": True}
    assert again.extra["otherTool"] == [1, 2] and again.extra["status"] == "EDITED"
    assert again.shapes[0] == tooth
    np.testing.assert_array_equal(read_slice_mask(json_path)[0], new_mask)


def test_export_volume_writes_json_only_for_labelled_slices(tmp_path):
    volume = _volume(slices=4)
    labels = np.zeros(volume.shape, np.uint8)
    labels[1] = _mandible_with_canal()
    steps = []
    assert export_volume(tmp_path, volume, labels, BONE, progress=lambda i, n, m: steps.append(i)) == (4, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0001.png", "0002.json", "0002.png", "0003.png",
                                                          "0004.png"]
    assert steps == [1, 2, 3, 4]
    assert export_volume(tmp_path / "all", volume, labels, BONE, all_slices=True) == (4, 4)
    assert read_label_file(tmp_path / "all" / "0004.json").shapes == ()


@pytest.mark.shared
def test_exported_files_contain_no_patient_identifiers(tmp_path):
    """A DICOM with a real-looking name, ID and birth date: none of it reaches PNG or JSON."""
    source = shared_path("data", "dicom", "okbp_pt_201")
    headers = [(float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]), p)
               for p in sorted(source.iterdir())]
    series = tmp_path / "series"
    series.mkdir()
    for number, (_, path) in enumerate(sorted(headers)[60:63]):
        ds = pydicom.dcmread(path)
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Kowalczyk^Agnieszka", "PID-8817342", "19580214"
        ds.OtherPatientIDs = "ALT-551902"
        ds.save_as(series / f"slice{number}")
    volume = load_dicom_series(series)
    out = tmp_path / "out"
    masks = np.zeros(volume.shape, np.uint8)
    masks[:, 40:60, 40:60] = 1
    export_volume(out, volume, masks, BONE)
    export_slice(out, 0, volume, masks[0], BONE, embed_image=True)
    written = list(out.iterdir())
    assert len(written) == 6
    for path in written:
        data = path.read_bytes()
        for secret in (b"Kowalczyk", b"Agnieszka", b"PID-8817342", b"19580214", b"ALT-551902"):
            assert secret not in data, f"{secret!r} leaked into {path.name}"
    provenance = read_label_file(out / "0002.json").extra[PROVENANCE_KEY]
    assert provenance["sop_instance_uid"] == volume.sop_uids[1]
    assert provenance["series_uid"] == volume.series_uid


def test_slice_numbers_name_files_and_the_provenance_names_the_ct_slice(tmp_path):
    """slice_stem is the one place that numbers files; a file maps back to its CT slice by its provenance."""
    assert [slice_stem(i) for i in (0, 63, 9999)] == ["0001", "0064", "10000"]
    assert [slice_index_of(n) for n in ("0064.json", "0001.png", "0000.json", "notes.json")] == [63, 0, None, None]
    volume = _volume(slices=4)
    json_path = export_slice(tmp_path, 2, volume, _mandible_with_canal(), BONE)
    renamed = json_path.with_name("0042.json")  # a user renamed it: the provenance still knows the slice
    json_path.rename(renamed)
    assert labelled_slice_index(renamed, read_label_file(renamed)) == 2
