"""`MandibleStudio --smoke-test`: proves that a build starts and works, offscreen, in seconds.

It opens the bundled sample in the real main window on a fresh workspace, checks that the app
activated the bundled starter model on this first start, segments one slice with it (the mask must
match the sample's clinical contour with Dice >= MIN_DICE), writes that slice as one Labelme JSON
(with its PNG), reads it back, prints one JSON line and exits 0. A build without its starter model
fails. Everything it writes, user data included, goes to a temporary folder.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

TIMEOUT_MS = 120_000
MIN_DICE = 0.5  # the starter scores ~0.85 on this case; below 0.5 it is not segmenting the mandible


def run_smoke_test() -> int:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="mandible-smoke-") as tmp:
        os.environ["MANDIBLE_STUDIO_HOME"] = str(Path(tmp) / "user-data")
        try:
            report = _smoke(Path(tmp))
        except Exception as exc:  # the one place a failure must become an exit status
            print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
            return 1
    print(json.dumps({"ok": True, **report}))
    return 0


def _smoke(tmp: Path) -> dict:
    from gui.app import make_application

    app = make_application([])
    from core.app_paths import sample_case_dir
    from gui.main_window import MainWindow

    window = MainWindow(tmp / "workspace")
    window.show()
    _open_and_wait(app, window, sample_case_dir())
    session = window.session
    index, reference = _labelled_slice(session.volume)
    prediction = _predict_with_starter(window, index, reference)
    return {"case": session.name, "slices": session.num_slices, "slice": index,
            **prediction, **_export_one_slice(session, index, tmp / "labelme")}


def _labelled_slice(volume):
    """The middle slice of the sample's clinical mandible contour, and that contour."""
    from core.app_paths import sample_label_path
    from core.io.labels import load_labels

    labels = load_labels(sample_label_path(), volume)
    labelled = [i for i in range(labels.shape[0]) if labels[i].any()]
    index = labelled[len(labelled) // 2]
    return index, labels[index]


def _open_and_wait(app, window, path: Path) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    failures: list[str] = []
    window.case_opened.connect(lambda _case_id: loop.quit())
    window.open_failed.connect(lambda message: (failures.append(message), loop.quit()))
    QTimer.singleShot(TIMEOUT_MS, loop.quit)
    if not window.open_path(path):
        raise RuntimeError("the main window refused to open the sample")
    loop.exec()
    if failures:
        raise RuntimeError(f"opening the sample failed: {failures[0]}")
    if window.session is None:
        raise RuntimeError(f"the sample did not open within {TIMEOUT_MS // 1000} s")
    if window.task is not None:
        window.task.wait(TIMEOUT_MS)  # let the loading thread end before the window goes


def _predict_with_starter(window, index: int, reference) -> dict:
    """Segment one slice with the model the app activated on first start, which must be the bundled starter."""
    import numpy as np

    from core.inference.segmenter import Segmenter
    from core.model.openvino_network import select_engine
    from core.model.model_file import starter_model
    from core.workspace.model_versions import ModelVersions

    starter = starter_model()  # ModelFileError when the build ships none
    active = ModelVersions(window.workspace.models_dir).active()  # what the app registered at start
    if active is None or active.model_path != starter.resolve():
        raise RuntimeError(f"the app did not activate the bundled starter model {starter} on its first start "
                           f"(active: {None if active is None else active.model_path})")
    session = window.session
    segmenter = Segmenter.from_file(active.model_path)
    if segmenter.engine != select_engine("auto", segmenter.model, segmenter.runtime):
        raise RuntimeError("OpenVINO is bundled but could not prepare the network (its CPU plugin or PyTorch "
                           "front end is missing from the build); see the log")
    predictions = list(segmenter.predict(session.volume, [index]))
    mask = predictions[-1].mask  # the last one is the final word on the slice (a revision, if any)
    overlap = 2 * np.logical_and(mask, reference).sum()
    dice = float(overlap / max(1, mask.astype(bool).sum() + reference.astype(bool).sum()))
    if dice < MIN_DICE:
        raise RuntimeError(f"the starter model's mask on slice {index + 1} has Dice {dice:.3f} against the "
                           f"sample's contour (expected >= {MIN_DICE})")
    for prediction in predictions:
        session.take_prediction(prediction.index, prediction.mask, prediction.confidence)
    return {"model": starter.name, "engine": segmenter.engine, "dice": round(dice, 3)}


def _export_one_slice(session, index: int, out_dir: Path) -> dict:
    from core.io.slice_export import export_slice, read_slice_mask
    from core.windowing import WINDOW_PRESETS

    annotation = session.annotation(index)
    json_path = export_slice(out_dir, index, session.volume, annotation.mask, WINDOW_PRESETS["bone"])
    mask, _label_file = read_slice_mask(json_path)
    if not (json_path.with_suffix(".png").is_file() and mask.shape == annotation.mask.shape):
        raise RuntimeError(f"{json_path} did not read back as a {annotation.mask.shape} mask")
    if not annotation.mask.any() or not (mask.astype(bool) == annotation.mask.astype(bool)).all():
        raise RuntimeError(f"{json_path} is empty or does not read back to the mask that was written")
    return {"labelme_json": json_path.name, "mask_pixels": int(mask.sum())}


if __name__ == "__main__":
    sys.exit(run_smoke_test())
