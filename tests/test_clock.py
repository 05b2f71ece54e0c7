"""The file clock: a hand-moved time that a test shares with a ``chatbot run`` process."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from chatbot.clock import FileClock, clock_from_string

START = datetime(2035, 3, 1, 17, 0, tzinfo=UTC)


def test_a_file_clock_round_trips_through_its_string_and_shares_its_time(tmp_path):
    writer = FileClock(tmp_path / "now", speed=30, start=START)
    reader = clock_from_string(writer.describe())
    assert writer.describe() == f"file:30.0:{tmp_path / 'now'}"
    assert isinstance(reader, FileClock) and reader.speed == 30
    assert reader.now() == START
    writer.advance(minutes=5)
    assert reader.now() == START + timedelta(minutes=5)
    assert [p.name for p in tmp_path.iterdir()] == ["now"]  # no partial files left behind


class WatchedClock(FileClock):
    """A reader that says when it has first looked at the time."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.looked = threading.Event()

    def now(self) -> datetime:
        value = super().now()
        self.looked.set()
        return value


def test_sleep_waits_until_the_writer_has_moved_time_on(tmp_path):
    writer = FileClock(tmp_path / "now", start=START)
    sleeper = WatchedClock(tmp_path / "now")
    woke: list[datetime] = []
    thread = threading.Thread(
        target=lambda: (sleeper.sleep(60), woke.append(sleeper.now())), daemon=True
    )
    thread.start()
    assert sleeper.looked.wait(timeout=30)  # it has read when it started sleeping
    writer.advance(seconds=59)
    thread.join(timeout=0.3)
    assert thread.is_alive() and woke == []  # 59 of its 60 seconds have passed
    writer.advance(seconds=1)
    thread.join(timeout=30)
    assert woke == [START + timedelta(seconds=60)]


def test_a_file_clock_refuses_naive_times_and_bad_strings(tmp_path):
    clock = FileClock(tmp_path / "now", start=START)
    with pytest.raises(ValueError, match="needs a time zone"):
        clock.set(datetime(2035, 3, 1, 17, 0))
    with pytest.raises(ValueError, match="expected 'file:<speed>:<path>'"):
        clock_from_string("file:60")
    with pytest.raises(ValueError, match="speed '0' must be a number above 0"):
        clock_from_string(f"file:0:{tmp_path / 'now'}")
