"""Large blocks go back to the system when freed (glibc): memory follows what is alive, not what once was.

glibc's malloc raises its mmap threshold each time a large block is freed (up to 32 MB), so after the first
slice-sized array is freed every later one comes from a heap arena instead, and freed arena memory stays with the
process. With a dozen threads (DICOM decoding, prefetch, the network's, the GUI's workers) each with its own arena,
a big scan left hundreds of MB resident that nothing used (issue 22). A fixed threshold keeps every block of
LARGE_BLOCK bytes or more in its own mapping, returned on free; smaller ones stay in the arenas.

    keep_large_blocks_mapped()   # once, at start, before threads: main.py does it
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

LARGE_BLOCK = 1 << 20  # a 512 x 512 int32 slice is 1 MB
_M_MMAP_THRESHOLD = -3  # mallopt parameter numbers (malloc.h)


def keep_large_blocks_mapped() -> bool:
    """Fix glibc's mmap threshold at LARGE_BLOCK; False where there is no glibc (Windows, macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    done = bool(mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK))
    if not done:
        log.debug("mallopt(M_MMAP_THRESHOLD) refused")
    return done
