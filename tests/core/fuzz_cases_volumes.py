"""Fuzz cases of the CT inputs: DICOM, NIfTI and image stacks (see tests/core/fuzz_corpus.py)."""
from __future__ import annotations

import gzip
import shutil
import struct
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from pydicom.data import get_testdata_file

from core.io.loader import load_volume
from tests.core.fuzz_corpus import (FuzzInput, ct_array, ct_nifti, fuzz_case, load, loaded, png, refused,
                                    refused_or_same, sample_series, sorted_values, values_summary)
from tests.support.dicom import rewrite_uncompressed


def _edit_series(root: Path, edit, count: int = 3) -> Path:
    """The sample's first slices, uncompressed, each edited by `edit(ds)`."""
    folder = sample_series(root, count=count)
    for path in sorted(folder.iterdir()):
        rewrite_uncompressed(path, edit=edit)
    return folder


def _reference(path: Path) -> dict:
    return values_summary(load_volume(path).hu)


# -- exit 0 with garbage ---------------------------------------------------------------------------
def _gzip_ct(root: Path) -> tuple[Path, bytearray, dict]:
    path = ct_nifti(root)
    return path, bytearray(path.read_bytes()), _reference(path)


@fuzz_case("garbage")
def nifti_gz_with_a_bad_crc(root: Path) -> FuzzInput:
    path, data, _ = _gzip_ct(root)
    data[-8] ^= 0xFF  # the CRC-32 in the gzip trailer
    path.write_bytes(bytes(data))
    return FuzzInput(load(path), refused("damaged|CRC"))


@fuzz_case("garbage")
def nifti_gz_cut_short(root: Path) -> FuzzInput:
    path, data, _ = _gzip_ct(root)
    path.write_bytes(bytes(data[: len(data) * 2 // 3]))
    return FuzzInput(load(path), refused("damaged|cut short|not a readable NIfTI"))


def _corrupted_gzip(seed: int):
    def build(root: Path) -> FuzzInput:
        path, data, reference = _gzip_ct(root)
        rng = np.random.default_rng(seed)
        for offset in rng.integers(10, len(data), 3):  # past the fixed gzip magic and method bytes
            data[offset] ^= int(rng.integers(1, 256))
        path.write_bytes(bytes(data))
        return FuzzInput(load(path), refused_or_same("damaged|cut short|not a readable NIfTI|inflates", reference))

    build.__name__ = f"nifti_gz_random_corruption_{seed}"
    return build


for _seed in range(8):
    fuzz_case("garbage")(_corrupted_gzip(_seed))


@fuzz_case("garbage")
def dicom_rescale_slope_nan(root: Path) -> FuzzInput:
    folder = _edit_series(root, lambda ds: setattr(ds, "RescaleSlope", "NaN"))
    return FuzzInput(load(folder), refused(r"RescaleSlope nan"))


@fuzz_case("garbage")
def nifti_all_nan(root: Path) -> FuzzInput:
    return FuzzInput(load(ct_nifti(root, data=np.full((8, 8, 3), np.nan, np.float32))), refused("NaN"))


@fuzz_case("garbage")
def nifti_all_infinite(root: Path) -> FuzzInput:
    return FuzzInput(load(ct_nifti(root, data=np.full((8, 8, 3), np.inf, np.float32))), refused("infinite"))


@fuzz_case("garbage")
def nifti_some_nan(root: Path) -> FuzzInput:
    data = ct_array().astype(np.float32)
    data[0, 0, :] = np.nan
    return FuzzInput(load(ct_nifti(root, data=data)), loaded("4 voxel.*NaN", all_finite=True, min=-1000.0))


# -- memory bombs: refused before allocating (the driver runs under an RLIMIT_AS cap) ----------------
@fuzz_case("memory-bomb")
def dicom_rle_slice_of_60000_squared(root: Path) -> FuzzInput:
    folder = sample_series(root, count=1)
    (path,) = folder.iterdir()
    ds = pydicom.dcmread(path)
    ds.Rows = ds.Columns = 60000  # the RLE data stays small: only the header lies
    ds.save_as(path)
    return FuzzInput(load(folder), refused("60000x60000"))


@fuzz_case("memory-bomb")
def dicom_native_slice_of_60000_squared(root: Path) -> FuzzInput:
    folder = _edit_series(root, lambda ds: (setattr(ds, "Rows", 60000), setattr(ds, "Columns", 60000)), 1)
    return FuzzInput(load(folder), refused("60000x60000"))


def _png_header_only(path: Path, width: int, height: int, bit_depth: int) -> Path:
    """A PNG that declares width x height but holds one row: decoders allocate what the header says."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    row = zlib.compress(b"\0" * (1 + width * bit_depth // 8))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", row) + chunk(b"IEND", b""))
    return path


@fuzz_case("memory-bomb")
def png_of_45000_squared_16_bit(root: Path) -> FuzzInput:
    folder = root / "images"
    folder.mkdir()
    _png_header_only(folder / "0001.png", 45000, 45000, 16)
    return FuzzInput(load(folder), refused("larger than|45000"))


@fuzz_case("memory-bomb")
def image_stack_of_40_slices_of_8000_squared(root: Path) -> FuzzInput:
    folder = root / "images"
    folder.mkdir()
    for index in range(40):  # each slice is allowed; together they are 2.5 G voxels
        _png_header_only(folder / f"{index:04d}.png", 8000, 8000, 8)
    return FuzzInput(load(folder), refused("40 x 8000 x 8000 voxels"))


def _nifti_header_only(path: Path, shape) -> Path:
    header = nib.Nifti1Header()
    header.set_data_shape(shape)
    header.set_data_dtype(np.int16)
    header["vox_offset"] = 352
    data = header.binaryblock + b"\0" * 4 + b"\0" * 4096
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


@fuzz_case("memory-bomb")
def nifti_declaring_4096_cubed(root: Path) -> FuzzInput:
    return FuzzInput(load(_nifti_header_only(root / "big.nii", (4096, 4096, 4096))), refused("4096 x 4096 x 4096"))


@fuzz_case("memory-bomb")
def nifti_gz_declaring_4096_cubed(root: Path) -> FuzzInput:
    path = _nifti_header_only(root / "big.nii.gz", (4096, 4096, 4096))
    return FuzzInput(load(path), refused("4096 x 4096 x 4096"))


@fuzz_case("memory-bomb")
def dicom_pixel_spacing_of_2000_mm(root: Path) -> FuzzInput:
    """Predict would resample to the model's mm per pixel: 128 px of 2 m is a 16 GB image."""
    folder = _edit_series(root, lambda ds: setattr(ds, "PixelSpacing", [2000, 2000]))
    return FuzzInput(load(folder), loaded("PixelSpacing 2000 x 2000 mm is impossible", spacing_known=False,
                                          spacing=[2.5, 1.0, 1.0]))


# -- images ----------------------------------------------------------------------------------------
@fuzz_case("image")
def zero_byte_png(root: Path) -> FuzzInput:
    png(root / "images" / "0001.png", np.zeros((8, 8), np.uint8))
    (root / "images" / "0002.png").write_bytes(b"")
    return FuzzInput(load(root / "images"), refused(r"empty \(0 bytes\)"))


@fuzz_case("image")
def png_cut_short(root: Path) -> FuzzInput:
    path = png(root / "images" / "0001.png", np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8))
    path.write_bytes(path.read_bytes()[:200])
    return FuzzInput(load(root / "images"), refused("not a readable image"))


@fuzz_case("image")
def text_file_named_png(root: Path) -> FuzzInput:
    (root / "images").mkdir()
    (root / "images" / "0001.png").write_text("not an image")
    return FuzzInput(load(root / "images"), refused("not a readable image"))


# -- DICOM geometry and values ---------------------------------------------------------------------
@fuzz_case("dicom-geometry")
def orientation_all_zero(root: Path) -> FuzzInput:
    folder = _edit_series(root, lambda ds: setattr(ds, "ImageOrientationPatient", [0, 0, 0, 0, 0, 0]))
    return FuzzInput(load(folder), loaded("ImageOrientationPatient is not a pair", shape=[3, 128, 128]))


@fuzz_case("dicom-geometry")
def orientation_not_a_number(root: Path) -> FuzzInput:
    folder = _edit_series(root, lambda ds: setattr(ds, "ImageOrientationPatient", ["NaN"] * 6))
    return FuzzInput(load(folder), loaded("ImageOrientationPatient is not a pair", shape=[3, 128, 128]))


@fuzz_case("dicom-geometry")
def pixel_spacing_zero(root: Path) -> FuzzInput:
    folder = _edit_series(root, lambda ds: setattr(ds, "PixelSpacing", [0, 0]))
    return FuzzInput(load(folder), loaded("PixelSpacing 0 x 0 mm is impossible", spacing_known=False))


@fuzz_case("dicom-geometry")
def positions_of_1e300(root: Path) -> FuzzInput:
    def edit(ds):
        ds.ImagePositionPatient = [1e300, -1e300, 1e300 * (1 if int(ds.InstanceNumber) % 2 else -1)]
    folder = _edit_series(root, edit)
    return FuzzInput(load(folder), loaded("ImagePositionPatient is impossible", shape=[3, 128, 128]))


@fuzz_case("dicom-geometry")
def rescale_slope_1e30(root: Path) -> FuzzInput:
    folder = _edit_series(root, lambda ds: setattr(ds, "RescaleSlope", "1e30"))
    return FuzzInput(load(folder), refused(r"RescaleSlope 1e\+30"))


@fuzz_case("dicom-geometry")
def slice_thickness_nan_without_positions(root: Path) -> FuzzInput:
    def edit(ds):
        del ds.ImagePositionPatient
        ds.SliceThickness = "NaN"
    folder = _edit_series(root, edit)
    return FuzzInput(load(folder), loaded("No slice spacing", spacing_known=False))


# -- NIfTI -----------------------------------------------------------------------------------------
@fuzz_case("nifti")
def nifti_affine_zero(root: Path) -> FuzzInput:
    zero = [0.0] * 4
    path = _nifti_with_header(root / "ct.nii.gz", ct_array(), sform_code=1, qform_code=0,
                              srow_x=zero, srow_y=zero, srow_z=zero)
    return FuzzInput(load(path), loaded("affine .* is zero", spacing_known=False, shape=[4, 20, 24]))


def _nifti_with_header(path: Path, data: np.ndarray, **fields) -> Path:
    """A .nii.gz whose header fields are set byte for byte (nibabel will not save a NaN affine itself)."""
    header = nib.Nifti1Header()
    header.set_data_shape(data.shape)
    header.set_data_dtype(data.dtype)
    header["vox_offset"] = 352
    for name, value in fields.items():
        header[name] = value
    path.write_bytes(gzip.compress(header.binaryblock + b"\0" * 4 + data.tobytes(order="F")))
    return path


@fuzz_case("nifti")
def nifti_affine_nan(root: Path) -> FuzzInput:
    nan = [np.nan] * 4
    path = _nifti_with_header(root / "ct.nii.gz", ct_array(), sform_code=1, qform_code=0,
                              srow_x=nan, srow_y=nan, srow_z=nan)
    return FuzzInput(load(path), loaded("affine .* not a number", spacing_known=False, shape=[4, 20, 24]))


@fuzz_case("nifti")
def nifti_with_zero_slices(root: Path) -> FuzzInput:
    return FuzzInput(load(ct_nifti(root, data=np.zeros((8, 8, 0), np.int16))), refused("no image data"))


@fuzz_case("nifti")
def nifti_rgb24(root: Path) -> FuzzInput:
    rgb = np.zeros((8, 8, 3), dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    return FuzzInput(load(ct_nifti(root, data=rgb)), refused(r"colour \(RGB\)"))


@fuzz_case("nifti")
def nifti_complex(root: Path) -> FuzzInput:
    return FuzzInput(load(ct_nifti(root, data=np.zeros((8, 8, 3), np.complex64))), refused("complex64"))


@fuzz_case("nifti")
def nifti_time_series(root: Path) -> FuzzInput:
    return FuzzInput(load(ct_nifti(root, data=np.zeros((8, 8, 3, 2), np.int16))), refused("3-D volume"))


# -- transfer syntaxes pydicom's own files use --------------------------------------------------------
def _pydicom_file(root: Path, name: str) -> FuzzInput:
    source = Path(get_testdata_file(name))
    folder = root / "dicom"
    folder.mkdir()
    shutil.copy(source, folder / name)
    ds = pydicom.dcmread(source)
    expected = ds.pixel_array * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
    return FuzzInput(load(folder), loaded(shape=[1, ds.Rows, ds.Columns], sorted_sha1=sorted_values(expected)))


@fuzz_case("transfer-syntax")
def deflated_dicom(root: Path) -> FuzzInput:
    return _pydicom_file(root, "image_dfl.dcm")


@fuzz_case("transfer-syntax")
def big_endian_dicom(root: Path) -> FuzzInput:
    return _pydicom_file(root, "MR_small_bigendian.dcm")
