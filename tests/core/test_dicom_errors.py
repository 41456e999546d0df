"""Bad DICOM input gives a typed error or a report, never a crash; odd geometry is reported or handled."""
from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from core.errors import DicomSeriesError, InputError
from core.io.dicom import MultipleSeriesError, load_dicom_series, scan_dicom_folder
from core.io.loader import describe_input, load_volume
from tests.support.paths import SAMPLE_DIR
from tests.support.dicom import SAMPLE_FILES, copy_sample_series, rewrite_uncompressed


def test_non_existent_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_volume(tmp_path / "nowhere")
    with pytest.raises(InputError, match="does not exist"):
        load_dicom_series(tmp_path / "nowhere")


def test_empty_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="empty"):
        load_volume(tmp_path)
    with pytest.raises(DicomSeriesError, match="No DICOM image series"):
        load_dicom_series(tmp_path)


def test_folder_of_other_files_is_an_input_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not a CT")
    with pytest.raises(InputError, match="No DICOM, NIfTI or image files"):
        describe_input(tmp_path)


def test_random_bytes_and_truncated_files_are_reported_not_fatal(tmp_path):
    files = copy_sample_series(tmp_path)
    (tmp_path / "noise.dcm").write_bytes(np.random.default_rng(1).bytes(5000))
    rewrite_uncompressed(files[5])
    data = files[5].read_bytes()
    files[5].write_bytes(data[: len(data) // 2])  # header intact, pixel data cut
    files[6].write_bytes(files[6].read_bytes()[:300])  # cut inside the header
    volume = load_dicom_series(tmp_path)
    assert volume.num_slices == 10
    scan = scan_dicom_folder(tmp_path)
    reasons = {p.name: r for p, r in scan.skipped}
    assert "no DICM preamble" in reasons["noise.dcm"]
    assert "truncated" in reasons[files[5].name]
    assert files[6].name in reasons
    assert any("3 file(s) skipped" in w for w in volume.warnings)
    assert any("gap" in w for w in volume.warnings)  # two neighbouring slices are missing


def test_two_series_need_a_choice_and_load_when_chosen(tmp_path):
    files = copy_sample_series(tmp_path / "a", 6) + copy_sample_series(tmp_path / "b", 4)
    other_uid = generate_uid()
    for f in files[6:]:
        rewrite_uncompressed(f, edit=lambda ds: setattr(ds, "SeriesInstanceUID", other_uid))
    with pytest.raises(MultipleSeriesError) as caught:
        load_volume(tmp_path)
    uids = {s.uid for s in caught.value.series}
    assert other_uid in uids and len(uids) == 2
    assert other_uid in str(caught.value)
    assert load_volume(tmp_path, series_uid=other_uid).num_slices == 4
    first_uid = (uids - {other_uid}).pop()
    assert load_volume(tmp_path, series_uid=first_uid).num_slices == 6


def test_slice_of_another_size_is_rejected_with_the_file_named(tmp_path):
    files = copy_sample_series(tmp_path, 5)
    rewrite_uncompressed(files[2], pixels=np.zeros((64, 64), np.uint16))
    with pytest.raises(DicomSeriesError, match=rf"mixes slice sizes.*1 of 64x64 \(e\.g\. {files[2].name}\)"):
        load_dicom_series(tmp_path)


def test_dicomdir_and_non_image_objects_are_ignored(tmp_path):
    copy_sample_series(tmp_path, 3)
    rtstruct = pydicom.dcmread(SAMPLE_FILES[0], stop_before_pixels=True)
    rtstruct.SOPClassUID = rtstruct.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.481.3"
    for tag in ("Rows", "Columns"):
        delattr(rtstruct, tag)
    rtstruct.save_as(tmp_path / "rtstruct.dcm", enforce_file_format=True)
    shutil.copy(SAMPLE_FILES[0], tmp_path / "DICOMDIR")
    volume = load_dicom_series(tmp_path)
    assert volume.num_slices == 3
    reasons = {p.name: r for p, r in scan_dicom_folder(tmp_path).skipped}
    assert reasons["rtstruct.dcm"].startswith("not an image") and reasons["DICOMDIR"].startswith("DICOMDIR")


def test_uneven_spacing_is_warned(tmp_path):
    files = copy_sample_series(tmp_path, 6)
    rewrite_uncompressed(files[3], edit=lambda ds: setattr(ds, "ImagePositionPatient",
                                                     [0.0, 0.0, float(ds.ImagePositionPatient[2]) - 0.5]))
    volume = load_dicom_series(tmp_path)
    assert any("Uneven slice spacing" in w for w in volume.warnings)


def test_flipped_orientation_loads_to_the_same_canonical_volume(tmp_path):
    """Rows stored posterior->anterior and files in reverse: the direction cosines undo both."""
    copy_sample_series(tmp_path / "plain", 8)
    reference = load_dicom_series(tmp_path / "plain")
    flipped = copy_sample_series(tmp_path / "flipped", 8)
    for f in flipped:
        pixels = pydicom.dcmread(f).pixel_array[::-1]

        def edit(ds):
            x, y, z = (float(v) for v in ds.ImagePositionPatient)
            ds.ImagePositionPatient = [x, y + 127 * float(ds.PixelSpacing[0]), z]
            ds.ImageOrientationPatient = [1, 0, 0, 0, -1, 0]
            ds.InstanceNumber = 100 - int(ds.InstanceNumber)
        rewrite_uncompressed(f, edit=edit, pixels=pixels)
    volume = load_dicom_series(tmp_path / "flipped")
    assert np.array_equal(volume.hu, reference.hu)
    assert np.allclose(volume.direction, reference.direction)
    assert np.allclose(volume.origin, reference.origin)
    assert volume.sop_uids == reference.sop_uids


def test_sagittal_series_is_reformatted_to_canonical_axial(tmp_path):
    reference = load_dicom_series(SAMPLE_DIR)
    template = pydicom.dcmread(SAMPLE_FILES[0])
    template.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    spacing = reference.spacing
    for x in range(0, 128, 16):  # every 16th column: a sagittal slice, rows superior->inferior
        template.SOPInstanceUID = generate_uid()
        template.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
        template.ImagePositionPatient = [x * spacing[2], 0.0, 0.0]
        template.PixelSpacing = [spacing[0], spacing[1]]
        template.PixelData = (reference.hu[:, :, x].astype(np.int32) + 1024).astype(np.uint16).tobytes()
        template.save_as(tmp_path / f"sag{x:03d}.dcm", enforce_file_format=True)
    volume = load_dicom_series(tmp_path)
    assert np.array_equal(volume.hu, reference.hu[:, :, ::16])
    assert volume.spacing == pytest.approx((spacing[0], spacing[1], 16 * spacing[2]))
    assert volume.sop_uids is None and any("reformatted" in w for w in volume.warnings)


def test_without_positions_slices_follow_instance_number(tmp_path):
    files = copy_sample_series(tmp_path / "plain", 6)
    reference = load_dicom_series(tmp_path / "plain")
    for f in files:
        rewrite_uncompressed(f, edit=lambda ds: delattr(ds, "ImagePositionPatient"))
    for f in files:  # names no longer follow the order
        f.rename(f.with_name(f"x{pydicom.dcmread(f).SOPInstanceUID[-6:]}.dcm"))
    volume = load_dicom_series(tmp_path / "plain")
    assert np.array_equal(volume.hu, reference.hu)
    assert volume.sop_uids == reference.sop_uids
    assert volume.spacing == pytest.approx(reference.spacing)  # from SliceThickness
    assert any("ordered by InstanceNumber" in w for w in volume.warnings)
