"""The preview's file watching: the kernel's file events, with MkDocs' polling kept as the net.

MkDocs' live-reload server finds changes by polling every watched folder every 0.5 s, because file events do
not cross every virtual filesystem (network mounts, some Docker set-ups; mkdocs/mkdocs#2477). An author's save
then waits up to half a second before its build even starts. ``watch_with_file_events`` gives the server an
observer that also listens to the operating system's file events (inotify on Linux, FSEvents on macOS), which
arrive within milliseconds, and keeps the polling for any change they miss. A change both report is passed on
once: the polling's report is dropped when the file events already reported the file as it is now, or a second
build would follow every save.

Only ``watchdog`` is imported here, which MkDocs' server is built on. The server is reached through its
``watch``/``unwatch`` and its ``observer``, and one private name, ``_watched_paths``, to move what MkDocs watched
before the plugin's turn; without it, those paths stay with the polling alone.
"""

from __future__ import annotations

import logging
import os
import threading

import watchdog.observers
from watchdog.events import (EVENT_TYPE_CLOSED_NO_WRITE, EVENT_TYPE_OPENED, FileSystemEvent,
                             FileSystemEventHandler)
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

log = logging.getLogger("mkdocs.plugins.modelcards")

# File events that say a file was read, not changed: the build itself reads every card.
_READS = frozenset({EVENT_TYPE_OPENED, EVENT_TYPE_CLOSED_NO_WRITE})
_GONE = -1  # what ``_state`` says of a file that does not exist


def _state(path: str) -> int:
    """A file as it is now: its modification time in nanoseconds, or ``_GONE``."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return _GONE


def _paths(event: FileSystemEvent) -> list[str]:
    """The files of ``event``, symbolic links resolved: macOS's file events name /private/tmp where the polling
    names /tmp."""
    paths = [event.src_path] + ([event.dest_path] if event.dest_path else [])
    return [os.path.realpath(os.fsdecode(path)) for path in paths]


class _Reported:
    """Each file as the file events last reported it, by path; read by the polling's thread."""

    def __init__(self) -> None:
        self.states: dict[str, int] = {}
        self.lock = threading.Lock()

    def note(self, event: FileSystemEvent) -> None:
        with self.lock:
            for path in _paths(event):
                self.states[path] = _state(path)

    def already(self, event: FileSystemEvent) -> bool:
        """Whether the file events reported every file of ``event`` as it is now."""
        with self.lock:
            return all(self.states.get(path) == _state(path) for path in _paths(event))


class _FromFileEvents(FileSystemEventHandler):
    def __init__(self, handler: FileSystemEventHandler, reported: _Reported):
        self.handler, self.reported = handler, reported

    def dispatch(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in _READS:
            return
        self.reported.note(event)
        self.handler.dispatch(event)


class _FromPolling(FileSystemEventHandler):
    def __init__(self, handler: FileSystemEventHandler, reported: _Reported):
        self.handler, self.reported = handler, reported

    def dispatch(self, event: FileSystemEvent) -> None:
        if not event.is_directory and self.reported.already(event):
            return
        self.handler.dispatch(event)


class FileEventsAndPolling:
    """An observer as MkDocs' server uses one (``schedule``, ``unschedule``, ``start``, ``stop``, ``join``): each
    path is watched by ``polling`` and, where the system allows it, by its file events."""

    def __init__(self, polling: BaseObserver, events: BaseObserver | None = None):
        self.polling = polling
        self.events = events if events is not None else watchdog.observers.Observer()
        self.reported = _Reported()

    def schedule(self, handler: FileSystemEventHandler, path: str, *, recursive: bool = False,
                 **options) -> tuple[ObservedWatch, ObservedWatch | None]:
        polled = self.polling.schedule(_FromPolling(handler, self.reported), path, recursive=recursive, **options)
        try:
            evented = self.events.schedule(_FromFileEvents(handler, self.reported), path, recursive=recursive,
                                           **options)
        except OSError as exc:  # e.g. inotify's watch limit, reached while the server runs
            log.info("No file events for %s (%s): changes there are found by polling every 0.5 s", path, exc)
            evented = None
        return polled, evented

    def unschedule(self, watches: tuple[ObservedWatch, ObservedWatch | None]) -> None:
        polled, evented = watches
        self.polling.unschedule(polled)
        if evented is not None:
            self.events.unschedule(evented)

    def start(self) -> None:
        self.polling.start()
        try:
            self.events.start()
        except OSError as exc:  # e.g. no inotify instance left: the polling still watches everything
            self.events.stop()  # the watches that did start
            log.info("No file events (%s): changes are found by polling every 0.5 s", exc)

    def stop(self) -> None:
        self.polling.stop()
        if self.events.is_alive():
            self.events.stop()

    def join(self, timeout: float | None = None) -> None:
        self.polling.join(timeout)
        if self.events.is_alive():
            self.events.join(timeout)


def watch_with_file_events(server) -> None:
    """Give MkDocs' live-reload ``server`` file events beside its polling, for what it watches already and
    for what is watched from now on. Call it before the server starts."""
    if isinstance(server.observer, FileEventsAndPolling) or watchdog.observers.Observer is PollingObserver:
        return  # already done, or the system has no file events watchdog can read
    # What MkDocs watched so far (the docs folder, mkdocs.yml), moved onto the new observer through the
    # server's own watch/unwatch, which keep its bookkeeping.
    watched = dict(getattr(server, "_watched_paths", {}))
    for path, times in watched.items():
        for _ in range(times):
            server.unwatch(path)
    server.observer = FileEventsAndPolling(server.observer)
    for path, times in watched.items():
        for _ in range(times):
            server.watch(path)
