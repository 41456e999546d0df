"""The numpy thumbnail: a closed, shaded silhouette with no holes, lit from the upper left."""
from __future__ import annotations

import numpy as np
import trimesh

from core.io.mesh_preview import BACKGROUND_RGB, render_thumbnail


def test_sphere_renders_as_a_full_shaded_disc():
    image = render_thumbnail(trimesh.creation.icosphere(subdivisions=3, radius=20.0), size=100)
    covered = np.any(image != np.array(BACKGROUND_RGB, np.uint8), axis=2)
    yy, xx = np.mgrid[:100, :100] + 0.5
    radius = np.hypot(yy - 50, xx - 50)
    assert covered[radius < 43].all(), "holes inside the silhouette"
    assert not covered[radius > 47].any()
    grey = image.astype(float).mean(axis=2)
    assert grey[25:45, 25:45].mean() > grey[55:75, 55:75].mean() + 30


def test_empty_mesh_gives_background():
    image = render_thumbnail(trimesh.Trimesh(), size=32)
    assert image.shape == (32, 32, 3) and (image == np.array(BACKGROUND_RGB, np.uint8)).all()
