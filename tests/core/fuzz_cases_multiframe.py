"""Fuzz cases of broken multi-frame DICOM files (see tests/core/fuzz_corpus.py): each is refused with a message
that names the damage, or loads what is intact and says what was left out."""
from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.encaps import generate_fragments
from pydicom.sequence import Sequence

from tests.support.paths import SAMPLE_DIR
from tests.core.fuzz_corpus import FuzzInput, fuzz_case, load, loaded, refused
from tests.support.multiframe import legacy_converted_dataset

FRAMES = 3


def _multi_frame(root: Path, edit, native: bool = False) -> Path:
    """A three-frame Legacy Converted Enhanced CT of the bundled sample, edited by `edit(ds)`, in its own folder."""
    ds = legacy_converted_dataset(SAMPLE_DIR, FRAMES)
    if native:
        ds.decompress()
    edit(ds)
    folder = root / "scan"
    folder.mkdir()
    ds.save_as(folder / "volume.dcm", enforce_file_format=True)
    return folder


def _cut(folder: Path, size) -> Path:
    """Cut `size(pixel data)` bytes off the end of the file."""
    path = folder / "volume.dcm"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - size(pydicom.dcmread(path).PixelData)])
    return folder


def _half_the_last_frame(pixel_data: bytes) -> int:
    """Bytes from the middle of the last compressed frame to the end (its fragment and the delimiter)."""
    return len(list(generate_fragments(pixel_data))[-1]) // 2 + 8


@fuzz_case("garbage")
def multi_frame_without_per_frame_groups(root: Path) -> FuzzInput:
    folder = _multi_frame(root, lambda ds: delattr(ds, "PerFrameFunctionalGroupsSequence"))
    return FuzzInput(load(folder), refused("no Per-frame Functional Groups Sequence"))


@fuzz_case("garbage")
def multi_frame_with_empty_functional_groups(root: Path) -> FuzzInput:
    def empty(ds):
        ds.PerFrameFunctionalGroupsSequence = Sequence([pydicom.Dataset() for _ in range(FRAMES)])
        ds.SharedFunctionalGroupsSequence = Sequence([pydicom.Dataset()])
    # No positions, no orientation, no pixel size: the frames load in file order, and the user is told.
    return FuzzInput(load(_multi_frame(root, empty)),
                     loaded("ordered by InstanceNumber", shape=[FRAMES, 128, 128], extra=_spacing_assumed))


def _spacing_assumed(result: dict) -> None:
    assert any("PixelSpacing missing" in w for w in result["warnings"]), result["warnings"]


@fuzz_case("garbage")
def multi_frame_count_above_its_groups(root: Path) -> FuzzInput:
    folder = _multi_frame(root, lambda ds: setattr(ds, "NumberOfFrames", FRAMES + 2), native=True)
    path = folder / "volume.dcm"
    ds = pydicom.dcmread(path)
    ds.PixelData = ds.PixelData + bytes(2 * 128 * 128 * 2)  # pixel data for the frames the header claims
    ds.save_as(path, enforce_file_format=True)
    return FuzzInput(load(folder), refused(f"NumberOfFrames says {FRAMES + 2} but .* describe {FRAMES} frames"))


@fuzz_case("garbage")
def multi_frame_count_not_a_count(root: Path) -> FuzzInput:
    folder = _multi_frame(root, lambda ds: setattr(ds, "NumberOfFrames", "2.5"))
    return FuzzInput(load(folder), refused("NumberOfFrames 2.5 is not a count of frames"))


@fuzz_case("garbage")
def multi_frame_native_pixel_data_cut(root: Path) -> FuzzInput:
    folder = _cut(_multi_frame(root, lambda ds: None, native=True), lambda data: len(data) // 2)
    return FuzzInput(load(folder), refused("truncated"))


@fuzz_case("transfer-syntax")
def multi_frame_rle_pixel_data_cut(root: Path) -> FuzzInput:
    # The first frames are whole, the last is cut: what is intact loads, and the user is told what was not.
    return FuzzInput(load(_cut(_multi_frame(root, lambda ds: None), _half_the_last_frame)),
                     loaded(r"1 of the 3 frames of volume.dcm could not be decoded", shape=[FRAMES - 1, 128, 128]))


@fuzz_case("memory-bomb")
def multi_frame_declaring_70000_frames(root: Path) -> FuzzInput:
    folder = _multi_frame(root, lambda ds: setattr(ds, "NumberOfFrames", 70000))  # RLE: only the header lies
    return FuzzInput(load(folder), refused("declares 70000 x 128 x 128 voxels"))
