"""The preview's file watching (`modelcards.file_events`): a save reaches the build through the kernel's file
events at once, a change the file events miss is still found by polling, and a change both report is passed on
once. Real observers on real files: inotify here, watchdog's polling beside it."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from watchdog.events import FileSystemEventHandler
from watchdog.observers.polling import PollingObserver

from modelcards.file_events import FileEventsAndPolling

NEVER = 3600.0  # seconds: a polling interval no test waits for


class Recorded(FileSystemEventHandler):
    """Like MkDocs' handler: any event that is not a folder's asks for a build."""

    def __init__(self):
        self.builds_asked: list[str] = []
        self.threads: list[threading.Thread] = []  # each observer dispatches from a thread of its own: itself
        self.asked = threading.Event()

    def on_any_event(self, event):
        if not event.is_directory:
            self.builds_asked.append(event.src_path)
            self.threads.append(threading.current_thread())
            self.asked.set()


@contextmanager
def watched_card(tmp_path: Path, observer: FileEventsAndPolling) -> Iterator[tuple[Path, Recorded]]:
    """A card in ``cards/``, that folder watched by ``observer`` (started, then stopped at the end)."""
    card = tmp_path / "cards" / "churn.yml"
    card.parent.mkdir()
    card.write_text("name: churn\n", encoding="utf-8")
    handler = Recorded()
    observer.schedule(handler, str(card.parent), recursive=True)
    observer.start()
    time.sleep(0.3)  # the polling's first snapshot, taken after start
    try:
        yield card, handler
    finally:
        observer.stop()
        observer.join(5)


def test_a_save_is_reported_by_file_events_long_before_the_next_poll(tmp_path: Path):
    with watched_card(tmp_path, FileEventsAndPolling(PollingObserver(timeout=NEVER))) as (card, handler):
        card.write_text("name: churn\ntitle: Churn\n", encoding="utf-8")
        assert handler.asked.wait(2), "no file event within 2 s of the save"
        assert handler.builds_asked[0] == str(card)


def test_a_change_both_report_asks_for_one_build_and_reading_a_card_asks_for_none(tmp_path: Path):
    observer = FileEventsAndPolling(PollingObserver(timeout=0.5))  # MkDocs' interval
    with watched_card(tmp_path, observer) as (card, handler):
        card.read_text(encoding="utf-8")  # as each build reads every card
        time.sleep(1.5)
        assert handler.builds_asked == []

        for title in ("Churn", "Churn, again"):
            handler.builds_asked.clear(), handler.threads.clear()
            card.write_text(f"name: churn\ntitle: {title}\n", encoding="utf-8")
            time.sleep(1.5)  # three polls, which saw the change too
            assert set(handler.builds_asked) == {str(card)}
            # Passed on from the file events only: the polling's report would have been a second build.
            assert set(handler.threads) == {observer.events}


class _NoEventsLeft(PollingObserver):
    """Stands in for file events the system refuses at start (inotify's per-user instance limit, which this
    machine's tests cannot use up without starving the rest of the suite)."""

    def start(self):
        raise OSError(24, "inotify instance limit reached")


@pytest.mark.parametrize("events", ["missed", "refused"])
def test_a_change_without_file_events_is_found_by_polling(tmp_path: Path, events: str):
    # missed: a filesystem whose changes reach no file event (a network mount, some Docker set-ups) cannot be
    # made here, so an observer that never reports stands in for its file events. refused: _NoEventsLeft.
    stand_in = PollingObserver(timeout=NEVER) if events == "missed" else _NoEventsLeft(timeout=NEVER)
    observer = FileEventsAndPolling(PollingObserver(timeout=0.1), events=stand_in)
    with watched_card(tmp_path, observer) as (card, handler):
        card.write_text("name: churn\ntitle: Churn\n", encoding="utf-8")
        assert handler.asked.wait(5), "the polling did not report the change"
        assert handler.builds_asked == [str(card)] and handler.threads == [observer.polling]
