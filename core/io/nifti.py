"""NIfTI volumes and label maps in and out, always in the canonical orientation of core.volume.

NIfTI affines are RAS (x to the patient's left is negative); Volume uses DICOM LPS. Any input
orientation is reoriented with nibabel's orientation tools (io_orientation / ornt_transform),
which permute and flip axes only: an oblique scan keeps its oblique direction matrix.

`volume_affine_ras(volume)` maps the index (i, j, k) of the array as NIfTI stores it, that is the
canonical array transposed to [col, row, slice] (x = column, y = row, z = slice), to RAS mm.
For the OpenKBP cases this gives back the original affine and axis codes ('L', 'P', 'I').

Reading checks what the header declares before any voxel is read (size, type, affine), and a
.nii.gz is checked whole (its CRC and length) because nibabel stops reading before the gzip
trailer: a damaged file must not load as a quietly wrong CT (decision 102).
"""
from __future__ import annotations

import gzip
import logging
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
from nibabel import orientations

from core.errors import InputError
from core.io.atomic import atomic_path
from core.io.files import require_regular_file
from core.io.limits import check_volume_size, finite_values, valid_spacing
from core.volume import Volume

log = logging.getLogger(__name__)

# (world axis, sign) for canonical [slice, row, col] in LPS world coordinates:
# slices go inferior (-z), rows posterior (+y), columns to the patient's left (+x).
CANONICAL_ORNT_LPS = np.array([[2, -1], [1, 1], [0, 1]])
LPS_FROM_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
# Index permutation between canonical [slice, row, col] and NIfTI storage [col, row, slice].
_SWAP_SLICE_COL = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], float)


def canonicalize(array: np.ndarray, affine_lps: np.ndarray,
                 in_place: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Permute and flip a 3-D array so that it is canonical; return (array, affine_lps, ornt).

    `ornt[k] = (output axis, flip)` tells where input axis k went (nibabel's convention). `in_place`: an array
    the caller owns and drops is flipped in place when no axis moves (the usual axial scan), so that a large
    volume is never held twice; a permutation (a sagittal or coronal acquisition) still makes one copy.
    """
    start = orientations.io_orientation(affine_lps)
    transform = orientations.ornt_transform(start, CANONICAL_ORNT_LPS)
    affine = affine_lps @ orientations.inv_ornt_aff(transform, array.shape)
    if in_place and array.flags.writeable and list(transform[:, 0]) == [0, 1, 2]:
        _flip_in_place(array, [axis for axis, (_, sign) in enumerate(transform) if sign < 0])
        return array, affine, transform
    moved = orientations.apply_orientation(array, transform)
    return np.ascontiguousarray(moved), affine, transform


def _flip_in_place(array: np.ndarray, axes: list[int]) -> None:
    """Reverse the given axes of a 3-D array without a second copy of it (one slice at a time)."""
    if 0 in axes:
        count = array.shape[0]
        for index in range(count // 2):
            other = count - 1 - index
            held = array[index].copy()
            array[index] = array[other]
            array[other] = held
    inner = tuple(slice(None, None, -1) if axis in axes else slice(None) for axis in (1, 2))
    if 1 in axes or 2 in axes:
        for plane in array:
            plane[...] = plane[inner].copy()


def volume_geometry(affine_lps: np.ndarray) -> dict:
    """Spacing, direction and origin of a Volume from a 4x4 index->LPS affine."""
    columns = np.asarray(affine_lps, float)[:3, :3]
    spacing = np.linalg.norm(columns, axis=0)
    return {
        "spacing": tuple(float(s) for s in spacing),
        "direction": columns / spacing[None, :],
        "origin": tuple(float(v) for v in affine_lps[:3, 3]),
    }


def volume_affine_ras(volume: Volume) -> np.ndarray:
    """4x4 RAS affine of the canonical array stored NIfTI-style, i.e. `volume.hu.transpose(2, 1, 0)`."""
    return LPS_FROM_RAS @ volume.affine_lps() @ _SWAP_SLICE_COL


# Bytes a .nii.gz may hold beyond what its header declares (extensions, padding) before it is refused.
_GZIP_SLACK = 64 * 1024 * 1024
_CHUNK = 4 * 1024 * 1024


def _read_image(path: Path) -> nib.Nifti1Image:
    """The image with its header checked (shape, voxel type, size, gzip integrity); voxels not read yet."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"NIfTI file {path} does not exist; choose a .nii or .nii.gz file.")
    require_regular_file(path, "a NIfTI file (.nii or .nii.gz)")
    try:
        image = nib.load(str(path))
        shape, dtype = image.shape, np.dtype(image.get_data_dtype())
    except Exception as exc:  # nibabel raises many types for damaged files
        raise InputError(f"{path} is not a readable NIfTI file ({exc}).") from exc
    if len(shape) != 3 and not (len(shape) == 4 and shape[3] == 1):
        raise InputError(f"{path} has shape {shape}; a 3-D volume is needed (one CT, not a time series).")
    if dtype.kind not in "biuf":
        raise InputError(f"{path} holds {'colour (RGB)' if dtype.names else str(dtype)} voxels; "
                         "a grayscale CT (integer or floating-point values) is needed.")
    check_volume_size(shape[:3], str(path))
    if path.name.lower().endswith(".gz"):
        _check_gzip(path, int(image.header.get_data_offset()) + int(np.prod(shape)) * dtype.itemsize)
    return image.slicer[..., 0] if len(shape) == 4 else image


def _check_gzip(path: Path, expected: int) -> None:
    """InputError unless the whole gzip stream inflates with a good CRC and length (streamed, bounded)."""
    inflated = 0
    try:
        with gzip.open(path, "rb") as stream:
            while chunk := stream.read(_CHUNK):
                inflated += len(chunk)
                if inflated > expected + _GZIP_SLACK:
                    raise InputError(f"{path} inflates to more data than its header declares; "
                                     "the file is damaged, export it again.")
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path} is damaged ({exc}); export or download it again.") from exc
    if inflated < expected:
        raise InputError(f"{path} is cut short ({inflated:,} of {expected:,} bytes); export or download it again.")


def _affine_lps(image: nib.Nifti1Image, path: Path) -> tuple[np.ndarray, list[str]]:
    """The LPS affine, or (when it is zero, not a number or gives impossible voxel sizes) a 1 mm
    stand-in that shows the voxels as stored, with a warning; see Volume.spacing_known."""
    affine = np.asarray(image.affine, float)
    columns = affine[:3, :3]
    sizes = np.linalg.norm(columns, axis=0) if np.all(np.isfinite(affine)) else np.zeros(3)
    usable = (np.all(np.isfinite(affine)) and abs(np.linalg.det(columns)) > 1e-12
              and all(valid_spacing(float(s), n) for s, n in zip(sizes, image.shape)))
    if usable:
        return LPS_FROM_RAS @ affine, []
    log.warning("%s: unusable affine %s", path, affine.tolist())
    return LPS_FROM_RAS @ np.diag([-1.0, 1.0, 1.0, 1.0]), [
        "The file's affine (orientation and voxel size) is zero, not a number or impossible: "
        "the voxels are shown as stored and 1 mm voxels are assumed."]


def _voxels(image: nib.Nifti1Image, path: Path) -> np.ndarray:
    """The stored values, keeping integer types when the file has no scaling."""
    proxy = image.dataobj
    slope, inter = getattr(proxy, "slope", 1.0), getattr(proxy, "inter", 0.0)
    try:
        if slope == 1.0 and inter == 0.0:
            return np.asarray(proxy)
        return image.get_fdata(dtype=np.float32)
    except Exception as exc:
        raise InputError(f"{path} is damaged: its voxels cannot be read ({exc}).") from exc


def load_nifti_volume(path: str | Path) -> Volume:
    """A CT volume from a .nii/.nii.gz file, reoriented to canonical; values kept as stored (HU)."""
    path = Path(path)
    image = _read_image(path)
    affine, warnings = _affine_lps(image, path)
    data = _voxels(image, path)
    if data.dtype.kind == "f":
        data = data.astype(np.float32, copy=False)
    data, value_warnings = finite_values(data, str(path))
    hu, affine, _ = canonicalize(data, affine, in_place=True)
    name = path.name.removesuffix(".gz").removesuffix(".nii")
    return Volume(hu=hu, name=name.removesuffix("_0000"), source=path, warnings=warnings + value_warnings,
                  spacing_known=not warnings, **volume_geometry(affine))


def load_nifti_labels(path: str | Path, volume: Volume | None = None) -> np.ndarray:
    """A uint8 label map [slice, row, col] in canonical orientation; checked against `volume`'s shape."""
    path = Path(path)
    image = _read_image(path)
    data = _voxels(image, path)
    if data.size and (data.dtype.kind == "f" and not np.all(np.isfinite(data))
                      or data.min() < 0 or data.max() > 255 or (data.dtype.kind == "f" and np.any(data % 1))):
        raise InputError(f"{path} is not a label map: values must be whole numbers 0..255.")
    labels, affine, _ = canonicalize(data.astype(np.uint8), _affine_lps(image, path)[0])
    if volume is not None:
        if labels.shape != volume.shape:
            raise InputError(f"Labels {path.name} have shape {labels.shape} but the CT has {volume.shape}; "
                             "choose the label file made for this CT.")
        if not np.allclose(affine, volume.affine_lps(), atol=1e-2):
            log.warning("labels %s: affine differs from the CT's; using them voxel for voxel", path)
    return labels


def save_nifti_labels(path: str | Path, labels: np.ndarray, volume: Volume) -> None:
    """Write a uint8 label map of `volume` as NIfTI (atomic), readable by any NIfTI viewer."""
    labels = np.asarray(labels)
    if labels.shape != volume.shape:
        raise InputError(f"Labels have shape {labels.shape} but the CT has {volume.shape}.")
    # The transposed view is already in NIfTI's (Fortran) order: nibabel writes it without a copy.
    image = nib.Nifti1Image(np.asarray(labels, np.uint8).transpose(2, 1, 0), volume_affine_ras(volume))
    image.set_qform(image.affine, code=1)
    image.set_sform(image.affine, code=1)
    with atomic_path(path) as tmp:
        nib.save(image, str(tmp))
