"""`main.py convert`: real validation cases become Labelme datasets that Labelme reads with the same masks."""
from __future__ import annotations

import argparse
import subprocess
import sys

import nibabel as nib
import numpy as np
import PIL.Image
import pytest
from scipy import ndimage

from core.commands import convert
from core.io.labels import load_labels
from core.io.loader import load_volume
from core.io.slice_export import export_slice, read_slice_mask, slice_stem
from core.windowing import WINDOW_PRESETS, hu_to_display
from tests.support.paths import ROOT, shared_path
from tests.support.labelme import run_labelme_check, save_mask_png


def _convert(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    convert.add_arguments(parser)
    return convert.run(parser.parse_args(list(argv)))


def _reference_labels(case: str) -> np.ndarray:
    """Labels straight from nibabel, no project code: [i, j, k] -> [slice k, row j, col i]."""
    path = shared_path("data", "openkbp", "validation", "labelsTr", f"{case}.nii.gz")
    return np.asarray(nib.load(path).dataobj).transpose(2, 1, 0) > 0


def _carve_hole(mask: np.ndarray) -> np.ndarray:
    """The slice with a marrow-like hole: remove the innermost pixels of the thickest part."""
    core = ndimage.binary_erosion(mask, iterations=2)
    if not core.any():
        core = ndimage.binary_erosion(mask)
    assert core.any(), "no slice thick enough to hold a hole"
    holed = mask.copy()
    holed[core] = False
    return holed


def _has_hole(mask: np.ndarray) -> bool:
    """A background component enclosed by mandible."""
    return bool((ndimage.binary_fill_holes(mask) & ~mask).any())


@pytest.mark.process
@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("case, source", [
    ("okbp_pt_201", ("data", "dicom", "okbp_pt_201")),
    ("okbp_pt_224", ("data", "openkbp", "validation", "imagesTr", "okbp_pt_224_0000.nii.gz")),
])
def test_convert_validation_case_opens_in_labelme_with_its_mask(tmp_path, capsys, case, source):
    ct = shared_path(*source)
    labels_path = shared_path("data", "openkbp", "validation", "labelsTr", f"{case}.nii.gz")
    out, masks = tmp_path / "out", tmp_path / "masks"
    assert _convert(str(ct), "--labels", str(labels_path), "--out", str(out)) == 0
    summary = capsys.readouterr().out.strip()
    assert len(summary.splitlines()) == 1 and "128 PNG" in summary

    reference = _reference_labels(case)
    labelled = [k for k in range(reference.shape[0]) if reference[k].any()]
    assert sorted(p.stem for p in out.glob("*.json")) == [slice_stem(k) for k in labelled]
    assert len(list(out.glob("*.png"))) == 128
    for k in labelled:
        save_mask_png(masks / f"{slice_stem(k)}.png", reference[k])

    # These coarse contours have no holes: carve one into the thickest slice through the exporter.
    thickest = max(labelled, key=lambda k: ndimage.binary_erosion(reference[k]).sum())
    holed = _carve_hole(reference[thickest])
    volume = load_volume(ct)
    export_slice(out, thickest, volume, holed, WINDOW_PRESETS["bone"])
    save_mask_png(masks / f"{slice_stem(thickest)}.png", holed)

    # The PNG shows the same anatomy, in the same orientation, as the labels drawn over it.
    ct_ref = shared_path("data", "openkbp", "validation", "imagesTr", f"{case}_0000.nii.gz")
    hu = np.asarray(nib.load(ct_ref).dataobj)[:, :, thickest].T
    png = np.asarray(PIL.Image.open(out / f"{slice_stem(thickest)}.png"))
    np.testing.assert_array_equal(png, hu_to_display(hu, WINDOW_PRESETS["bone"]))

    result = run_labelme_check(out, masks)
    assert result["files"] == len(labelled) and result["min_iou"] >= 0.99
    exported = {k: read_slice_mask(out / f"{slice_stem(k)}.json", 128, 128)[0] > 0 for k in labelled}
    assert any(_has_hole(mask) for mask in exported.values())
    for k, mask in exported.items():
        np.testing.assert_array_equal(mask, holed if k == thickest else reference[k])


@pytest.mark.shared
def test_labels_from_labelme_folder_match_nifti(tmp_path):
    ct = shared_path("data", "openkbp", "validation", "imagesTr", "okbp_pt_224_0000.nii.gz")
    labels_path = shared_path("data", "openkbp", "validation", "labelsTr", "okbp_pt_224.nii.gz")
    volume = load_volume(ct)
    nifti = load_labels(labels_path, volume)
    _convert(str(ct), "--labels", str(labels_path), "--out", str(tmp_path / "ds"), "--window", "dental")
    np.testing.assert_array_equal(load_labels(tmp_path / "ds", volume), nifti > 0)
    png = np.asarray(PIL.Image.open(tmp_path / "ds" / "0064.png"))
    assert png.shape == (128, 128) and png.dtype == np.uint8 and png.std() > 0


def _main(*argv: str) -> subprocess.CompletedProcess:
    python = ROOT / ".venv" / "bin" / "python"
    return subprocess.run([str(python if python.exists() else sys.executable), "main.py", *argv],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.process
def test_missing_input_exits_non_zero_with_one_line(tmp_path):
    done = _main("convert", str(tmp_path / "no-such-ct"), "--out", str(tmp_path / "out"))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "no-such-ct" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.process
def test_labels_of_another_scan_are_refused(tmp_path):
    ct = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 4), np.int16), np.eye(4)), ct)
    wrong = tmp_path / "wrong.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 5), np.uint8), np.eye(4)), wrong)
    done = _main("convert", str(ct), "--labels", str(wrong), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "shape" in lines[0]


@pytest.mark.process
def test_convert_without_labels_writes_only_images(tmp_path):
    ct = tmp_path / "ct.nii.gz"
    hu = np.linspace(-1000, 2000, 8 * 8 * 3).reshape(8, 8, 3).astype(np.int16)
    nib.save(nib.Nifti1Image(hu, np.eye(4)), ct)
    done = _main("convert", str(ct), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0001.png", "0002.png", "0003.png"]
    assert len(done.stdout.strip().splitlines()) == 1
    done = _main("convert", str(ct), "--out", str(tmp_path / "all"), "--all")
    assert len(list((tmp_path / "all").glob("*.json"))) == 3
