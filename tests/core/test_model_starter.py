"""The starter model in the repository: compact, honest about how it was trained, and the default of `predict`,
which segments the bundled sample on a fresh clone with no other step."""
from __future__ import annotations

import nibabel as nib
import numpy as np

import main
from core.app_paths import bundled_models_dir
from core.io.labels import load_labels
from core.io.loader import load_volume
from core.io.nifti import load_nifti_labels, volume_affine_ras
from core.model.model_file import read_document, starter_model
from core.volume import Volume
from tests.support.paths import SAMPLE_DIR

MAX_BYTES = 40_000_000


def test_the_starter_is_one_compact_file_that_records_how_it_was_trained():
    path = starter_model()
    assert path.parent == bundled_models_dir() and sorted(bundled_models_dir().glob("*.msmodel")) == [path]
    assert path.stat().st_size <= MAX_BYTES
    version, document = read_document(path)
    assert version == "2" and document["storage"] == "int8"
    facts = document["info"]["provenance"]
    assert "H200" in facts["device"] and facts["trained_on"] == "2026-11-28"
    assert "main.py train" in facts["settings"] and "--epochs 36" in facts["settings"]
    measured_here = facts["measured_here"]
    for measured in (measured_here["cranium_eval_slices"], measured_here["openkbp_validation_4_cases"]):
        starter, reference = measured["starter_int8"], measured["reference_fp32"]
        assert all(abs(starter[key] - reference[key]) <= 0.005 for key in reference), measured
    assert measured_here["openkbp_validation_4_cases"]["starter_int8"]["dice_3d_mean"] > 0.8
    assert document["info"]["compacted_from"]["file"] == "okbp128_gpu36.msmodel"


def test_predict_without_a_model_segments_a_ct_with_the_starter(tmp_path, capsys):
    """`main.py predict CT --out DIR` on a fresh clone: 12 mandible slices of the bundled sample, as NIfTI."""
    sample = load_volume(SAMPLE_DIR)
    label = load_labels(SAMPLE_DIR.parent / "okbp_pt_224_label.nii.gz", sample).astype(bool)
    middle = int(np.flatnonzero(label.any(axis=(1, 2))).mean())
    kept = slice(middle - 6, middle + 6)
    ct = tmp_path / "ct.nii.gz"
    part = Volume(hu=sample.hu[kept], spacing=sample.spacing, name="part")
    nib.save(nib.Nifti1Image(part.hu.astype(np.int16).transpose(2, 1, 0), volume_affine_ras(part)), str(ct))
    out = tmp_path / "prediction"
    assert main.main(["predict", str(ct), "--out", str(out)]) == 0, capsys.readouterr().err
    mask = load_nifti_labels(out / "mandible_mask.nii.gz", load_volume(ct)).astype(bool)
    dice = 2 * np.logical_and(mask, label[kept]).sum() / (mask.sum() + label[kept].sum())
    assert dice > 0.8, dice  # a real mandible, not a blob: the starter scores ~0.85 on OpenKBP cases
    assert 0.7 < mask.sum() / label[kept].sum() < 1.3
    assert len(list(out.glob("*.json"))) == 12 and "segmented 12 slices" in capsys.readouterr().out
