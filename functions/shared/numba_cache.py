"""Load the scoring core's numba kernels from the cache the ScoringLayer ships (no compile at cold start).

Lambda unpacks layers read-only under ``/opt``: numba cannot cache next to ``/opt/python/core`` and
would compile every kernel on the first solve. ``layers/Makefile`` compiles them at build time for a
generic x86-64 CPU into ``/opt/renown/numba-cache`` (filed under the directory numba computes for
``/opt/python/core``); :func:`use_shipped_cache` copies that to ``/tmp`` (numba needs a writable cache
directory even to read it) and points ``NUMBA_CACHE_DIR`` at the copy. It must run before the first
``import numba``: numba reads its configuration once, at import.

Call it at the top of a handler module whose code paths reach ``core.scoring``/``core.rank``/
``core.graph``/``core.incremental`` (``functions/rescore/tasks.py``), before anything imports ``core``.
Outside Lambda (no shipped cache) it does nothing.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

SHIPPED_CACHE = Path("/opt/renown/numba-cache")
RUNTIME_CACHE = Path("/tmp/numba-cache")


def use_shipped_cache(shipped: Path | None = None, target: Path | None = None) -> bool:
    """Copy the layer's numba cache to a writable place and make numba use it.

    Returns whether a shipped cache was found. ``RENOWN_NUMBA_SHIPPED_CACHE`` overrides the shipped
    location (tests, measurements); an existing ``NUMBA_CACHE_DIR`` is kept as the target.
    """
    source = shipped or Path(os.environ.get("RENOWN_NUMBA_SHIPPED_CACHE", str(SHIPPED_CACHE)))
    if not source.is_dir():
        return False
    if "numba" in sys.modules:
        sys.stderr.write("numba_cache: numba was imported before the shipped cache was set up\n")
    destination = target or Path(os.environ.get("NUMBA_CACHE_DIR") or RUNTIME_CACHE)
    shutil.copytree(source, destination, dirs_exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(destination)
    # the shipped index is keyed by CPU name and features: load what was built for "generic"
    os.environ["NUMBA_CPU_NAME"] = "generic"
    return True
