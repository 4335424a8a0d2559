"""How this process asks for memory: set once, when ``ogcrm`` is first imported.

Two choices, both measured on staging a 1,000,000-row permits file
(``bench/import_permits.py``), both overridable by the operator's own environment:

- Arrow (the CSV reader's batches, pandas' strings) takes memory from the C library's
  allocator. Its default, mimalloc, reserves arenas of a gigabyte of address space on
  first use, and jemalloc cannot start its threads, under ``ulimit -v`` (RLIMIT_AS),
  where a hostile file must still end in a clean error (``tests/pipeline/
  test_bounded_memory.py``). Arrow reads ``ARROW_DEFAULT_MEMORY_POOL`` at its first
  allocation, so this runs before that.
- glibc maps blocks of a megabyte and more on their own, so that a chunk's buffers go
  back to the system when freed. Its default threshold rises with every large block
  freed, after which those blocks stay in the heap, fragmented: the staging peak was
  615 MB with it, 548 MB with a fixed megabyte, at one speed.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: glibc's ``mallopt`` parameter for the size from which blocks are mapped.
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 20


def configure() -> None:
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): its defaults
        return
