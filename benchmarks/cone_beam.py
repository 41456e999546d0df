"""A CBCT-like variant with real cone-beam artefacts: the CT forward projected on a dental CBCT's circular
trajectory and reconstructed with FDK (itk-rtk), for benchmarks/bench_scanner_shift.py --rtk.

    attenuation mu = 0.02/mm x (HU + 1000) / 1000 of the whole head (not only the field of view: the detector
    sees the field of view, so what lies outside it truncates the projections, as on a real scanner)
    -> Joseph forward projection, 180 views over 360 degrees, source 500 mm and detector 700 mm from the axis
    -> beam hardening on each line integral (p - beta p^2: cupping) and Poisson noise (I0 photons a pixel)
    -> FDK (Hann-windowed ramp) on the field of view's grid
    -> stored as a scanner would: air at 0, 1200 HU bone at 2000, 0 outside the circle.

Needs itk-rtk (`pip install itk-rtk`, the wheel matching itk 5.4); `available()` says whether it imports.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from benchmarks.scanner_variants import BONE_HU, Scanner, Variant, make_variant

MU_WATER = 0.02  # 1/mm at about 70 keV
SOURCE_MM, DETECTOR_MM = 500.0, 700.0
VIEWS = 180
STORED_BONE = 2000.0


def available() -> bool:
    try:
        from itk import RTK  # noqa: F401
    except Exception:  # not installed, or a wheel that does not match itk
        return False
    return True


def cone_beam_variant(hu: np.ndarray, spacing, labels: np.ndarray, scanner: Scanner,
                      scored: tuple[int, int] | None = None, projector_mm: float = 1.5, beta: float = 0.02,
                      photons: float = 2e5) -> Variant:
    """The CBCT the scanner would reconstruct of `hu` ([slice, row, col] HU, `spacing` mm) on the grid
    make_variant would use (the same field of view, centre and voxel size)."""
    import itk
    from itk import RTK as rtk

    grid = make_variant(hu, spacing, labels, Scanner(grey="hu", cupping=0.0, noise_hu=0.0, padded=False,
                                                     field_mm=scanner.field_mm, grid_mm=scanner.grid_mm,
                                                     slice_mm=scanner.slice_mm), scored)
    image_type = itk.Image[itk.F, 3]
    # RTK turns about its y axis: the patient's slice axis goes there ([slice, row, col] -> [row, slice, col],
    # which ITK reads as [z, y, x]), and back again after the reconstruction.
    head = np.ascontiguousarray(_attenuation_around(hu, spacing, grid, projector_mm).transpose(1, 0, 2))
    volume = itk.image_from_array(head)
    volume.SetSpacing([projector_mm] * 3)
    volume.SetOrigin([-(n - 1) / 2.0 * projector_mm for n in head.shape[::-1]])
    geometry = rtk.ThreeDCircularProjectionGeometry.New()
    for view in range(VIEWS):
        geometry.AddProjection(SOURCE_MM, DETECTOR_MM, view * 360.0 / VIEWS)
    magnification = DETECTOR_MM / SOURCE_MM
    width = int(np.ceil(scanner.field_mm * magnification / projector_mm)) + 8
    height = int(np.ceil(grid.stored.shape[0] * grid.spacing[0] * magnification / projector_mm)) + 8
    projections = _constant(rtk, image_type, (width, height, VIEWS), (projector_mm, projector_mm, 1.0))
    forward = rtk.JosephForwardProjectionImageFilter[image_type, image_type].New()
    forward.SetInput(0, projections)
    forward.SetInput(1, volume)
    forward.SetGeometry(geometry)
    forward.Update()
    line = itk.array_from_image(forward.GetOutput())
    hardened = line - beta * line ** 2
    rng = np.random.default_rng(scanner.seed)
    counts = rng.poisson(photons * np.exp(-hardened)).clip(min=1)
    measured = itk.image_from_array(np.log(photons / counts).astype(np.float32))
    measured.CopyInformation(forward.GetOutput())
    shape = grid.stored.shape
    target = _constant(rtk, image_type, (shape[2], shape[0], shape[1]), (grid.spacing[2], grid.spacing[0],
                                                                         grid.spacing[1]))
    fdk = rtk.FDKConeBeamReconstructionFilter[image_type].New()
    fdk.SetInput(0, target)
    fdk.SetInput(1, measured)
    fdk.SetGeometry(geometry)
    fdk.GetRampFilter().SetHannCutFrequency(0.8)
    fdk.Update()
    mu = itk.array_from_image(fdk.GetOutput()).transpose(1, 0, 2)
    stored = np.clip(np.rint(mu / MU_WATER * STORED_BONE / (BONE_HU / 1000.0 + 1.0)), 0, 65535).astype(np.uint16)
    rows = (np.arange(shape[1]) - (shape[1] - 1) / 2.0) * grid.spacing[1]
    outside = np.hypot(rows[:, None], rows[None, :]) > scanner.field_mm / 2.0
    stored[:, outside] = 0
    return Variant(stored, grid.spacing, grid.start, grid.factors)


def _constant(rtk, image_type, size, spacing):
    source = rtk.ConstantImageSource[image_type].New()
    source.SetOrigin([-(n - 1) / 2.0 * s for n, s in zip(size, spacing)])
    source.SetSpacing(list(spacing))
    source.SetSize([int(n) for n in size])
    source.SetConstant(0.0)
    source.Update()
    return source.GetOutput()


def _attenuation_around(hu: np.ndarray, spacing, grid: Variant, voxel_mm: float) -> np.ndarray:
    """mu [slice, row, col] of the whole head on a voxel_mm grid centred on the variant's field of view,
    covering the source CT in-plane and the field of view's height plus the cone's spread."""
    spacing = np.asarray(spacing, float)
    centre = grid.start + (np.asarray(grid.stored.shape) / grid.factors - 1) / 2.0
    half_plane = max(hu.shape[1] * spacing[1], hu.shape[2] * spacing[2]) / 2.0
    half_height = grid.stored.shape[0] * grid.spacing[0] / 2.0 * 1.3
    counts = np.ceil(np.array([half_height, half_plane, half_plane]) * 2 / voxel_mm).astype(int)
    axes = [centre[a] + (np.arange(counts[a]) - (counts[a] - 1) / 2.0) * voxel_mm / spacing[a] for a in range(3)]
    coords = np.meshgrid(*axes, indexing="ij")
    sampled = ndimage.map_coordinates(hu.astype(np.float32), coords, order=1, mode="constant", cval=-1000.0)
    return (MU_WATER * (sampled + 1000.0) / 1000.0).clip(min=0.0).astype(np.float32)
