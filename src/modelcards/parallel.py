"""Spreading independent work over the machine's cores with forked workers.

Forked workers inherit the task and its items as they are, so a closure over the joined catalog (or over
MkDocs' files and pages) needs no pickling; only the results travel back. Results keep the items' order, so
the output is the same bytes whichever way it was computed.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, TypeVar

Result = TypeVar("Result")

# What forked workers run and on what: set just before the pool forks, so the workers inherit both.
_task: Callable[[Any], Any] | None = None
_items: list[Any] = []


def workers_for(items: int, *, from_items: int) -> int:
    """How many forked workers ``in_parallel`` starts for so many items: none below ``from_items`` (starting
    workers would cost more than they save), on one core, where fork is missing, or while other threads run
    (`serve`'s rebuilds, beside its HTTP server and file watcher): a forked child can hang on a lock one of
    them held."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if cores < 2 or items < from_items or "fork" not in multiprocessing.get_all_start_methods() \
            or threading.active_count() > 1:
        return 0
    return cores


def in_parallel(task: Callable[[Any], Result], items: list[Any], *, from_items: int,
                worker_setup: Callable[[], None] | None = None) -> list[Result]:
    """``[task(item) for item in items]``, spread over ``workers_for`` forked workers, or run here when that is
    none. ``worker_setup`` runs first in each worker."""
    cores = workers_for(len(items), from_items=from_items)
    if not cores:
        return [task(item) for item in items]
    global _task, _items
    _task, _items = task, items
    try:
        chunks = [range(start, len(items), cores) for start in range(cores)]  # interleaved: similar items mix
        with ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_start_worker, initargs=(os.getpid(), worker_setup)) as pool:
            results = list(pool.map(_run_chunk, chunks))
    finally:
        _task, _items = None, []
    ordered: list[Any] = [None] * len(items)
    for chunk, outputs in zip(chunks, results):
        for index, output in zip(chunk, outputs):
            ordered[index] = output
    return ordered


def _run_chunk(indices: range) -> list[Any]:
    assert _task is not None
    return [_task(_items[index]) for index in indices]


def apart(task: Callable[[], Result]) -> Result:
    """``task()`` in a forked child process, its result (or exception) sent back; here when forking is not safe.

    The child's memory goes back to the system when it ends, however much ``task`` took.
    """
    if workers_for(1, from_items=1) == 0:
        return task()
    global _task
    _task = task
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                 initializer=end_with, initargs=(os.getpid(),)) as pool:
            return pool.submit(_run_task).result()
    finally:
        _task = None


def _run_task() -> Any:
    assert _task is not None
    return _task()


def end_with(parent: int) -> None:
    """Make this worker process end when ``parent`` (the process that started it) does.

    A build stopped hard (a cancelled CI job, a killed `serve`) would otherwise leave its workers waiting for
    work that never comes: a pool's worker holds the writing end of its own queue, so the parent's death does
    not reach it. Each would live on with what it had loaded (SHAP, numba and matplotlib, or a catalog).
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _start_worker(parent: int, setup: Callable[[], None] | None) -> None:
    end_with(parent)
    if setup is not None:
        setup()
