"""Memory given back to the system after a large piece of work (glibc's allocator).

A decoded photo takes tens of megabytes for a moment, and its upload a few more.
glibc's allocator keeps what is freed for later: each thread has an arena of
its own, and once a large block has been freed, blocks up to 32 MB stop going
to ``mmap`` (returned to the system when freed) and come from the arenas
instead, which keep them. A worker that decoded eight photos kept a hundred
megabytes it no longer used. So:

- blocks of MMAP_THRESHOLD bytes or more always go to ``mmap`` (setting the
  threshold turns off its rise), and leave the process when freed;
- ``give_back_memory`` (after each decode) hands the free pages of every arena
  back with ``malloc_trim``.

Where the C library has neither function (musl, macOS), nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util

MMAP_THRESHOLD = 1024 * 1024
M_MMAP_THRESHOLD = -3  # mallopt's parameter, from glibc's malloc.h


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


_LIBC = _libc()
_TRIM = getattr(_LIBC, "malloc_trim", None)
if _TRIM is not None:
    _TRIM.argtypes = [ctypes.c_size_t]
    _TRIM.restype = ctypes.c_int
_MALLOPT = getattr(_LIBC, "mallopt", None)
if _MALLOPT is not None:
    _MALLOPT.argtypes = [ctypes.c_int, ctypes.c_int]
    _MALLOPT.restype = ctypes.c_int
    _MALLOPT(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def give_back_memory() -> bool:
    """Return the allocator's free memory to the system; whether it could be asked to."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
