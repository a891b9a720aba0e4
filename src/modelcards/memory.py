"""Pausing Python's cyclic garbage collector around allocation-heavy parsing."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    """Parsed cards and runs are trees freed by reference counting. While thousands of them are
    built, the cyclic collector keeps re-walking every live object for nothing; at 10,000 run
    exports that tripled the read time (benchmarks/run_read_speed.py)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
