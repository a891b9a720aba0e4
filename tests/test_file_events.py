"""The preview's file watching (`modelcards.file_events`): a save reaches the build through the kernel's file
events at once, a change the file events miss is still found by polling, and a change both report is passed on
once. Real observers on real files: inotify here, watchdog's polling beside it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from watchdog.events import FileSystemEventHandler
from watchdog.observers.polling import PollingObserver

from modelcards.file_events import FileEventsAndPolling

NEVER = 3600.0  # seconds: a polling interval no test waits for


class Recorded(FileSystemEventHandler):
    """Like MkDocs' handler: any event that is not a folder's asks for a build."""

    def __init__(self):
        self.builds_asked: list[str] = []
        self.times: list[float] = []
        self.asked = threading.Event()

    def on_any_event(self, event):
        if not event.is_directory:
            self.builds_asked.append(event.src_path)
            self.times.append(time.monotonic())
            self.asked.set()


def watching(folder: Path, observer: FileEventsAndPolling) -> Recorded:
    handler = Recorded()
    observer.schedule(handler, str(folder), recursive=True)
    observer.start()
    time.sleep(0.3)  # the polling's first snapshot, taken after start
    return handler


def stop(observer: FileEventsAndPolling) -> None:
    observer.stop()
    observer.join(5)


def test_a_save_is_reported_by_file_events_long_before_the_next_poll(tmp_path: Path):
    card = tmp_path / "cards" / "churn.yml"
    card.parent.mkdir()
    card.write_text("name: churn\n", encoding="utf-8")
    observer = FileEventsAndPolling(PollingObserver(timeout=NEVER))
    handler = watching(card.parent, observer)
    try:
        card.write_text("name: churn\ntitle: Churn\n", encoding="utf-8")
        assert handler.asked.wait(2), "no file event within 2 s of the save"
        assert handler.builds_asked[0] == str(card)
    finally:
        stop(observer)


def test_a_change_the_file_events_miss_is_found_by_polling(tmp_path: Path):
    # A filesystem whose changes reach no file event (a network mount, some Docker set-ups) cannot be made
    # here: an observer that never reports stands in for its file events.
    card = tmp_path / "cards" / "churn.yml"
    card.parent.mkdir()
    card.write_text("name: churn\n", encoding="utf-8")
    observer = FileEventsAndPolling(PollingObserver(timeout=0.1), events=PollingObserver(timeout=NEVER))
    handler = watching(card.parent, observer)
    try:
        card.write_text("name: churn\ntitle: Churn\n", encoding="utf-8")
        assert handler.asked.wait(5), "the polling did not report the change"
        assert str(card) in handler.builds_asked
    finally:
        stop(observer)


def test_a_change_both_report_asks_for_one_build_and_reading_a_card_asks_for_none(tmp_path: Path):
    card = tmp_path / "cards" / "churn.yml"
    card.parent.mkdir()
    card.write_text("name: churn\n", encoding="utf-8")
    observer = FileEventsAndPolling(PollingObserver(timeout=0.5))  # MkDocs' interval
    handler = watching(card.parent, observer)
    try:
        card.read_text(encoding="utf-8")  # as each build reads every card
        time.sleep(1.5)
        assert handler.builds_asked == []

        for title in ("Churn", "Churn, again"):
            handler.builds_asked.clear(), handler.times.clear()
            card.write_text(f"name: churn\ntitle: {title}\n", encoding="utf-8")
            time.sleep(1.5)  # three polls
            assert set(handler.builds_asked) == {str(card)}
            # MkDocs builds once for the events of a save that come within 0.1 s of each other. The polling
            # saw the same change up to half a second later: had it been passed on, it would be a second build.
            assert max(handler.times) - min(handler.times) < 0.1, handler.times
    finally:
        stop(observer)
