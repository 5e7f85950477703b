"""The mapping deadline: a record past it gets its timeout result and the next records their own, also when the
mapper catches every `Exception`; nothing is raised once a record is done."""

from __future__ import annotations

import time

from regpipe.normalize.deadline import DeadlineWatchdog


def _work(item: str) -> str:
    if item == "spin":
        while True:  # pure Python: the interruption lands between two bytecodes
            pass
    if item == "catches-everything":
        try:
            while True:
                pass
        except Exception:  # noqa: BLE001  # a mapper that swallows errors must not swallow the deadline
            return "swallowed"
    return item.upper()


def _timed_out(item: str) -> str:
    return f"timeout:{item}"


def test_a_spinning_record_gets_its_timeout_and_the_next_records_their_own() -> None:
    watchdog = DeadlineWatchdog(0.3)
    try:
        started = time.monotonic()
        results = [watchdog.run(_work, item, _timed_out) for item in ["a", "spin", "b", "catches-everything", "c"]]
        assert results == ["A", "timeout:spin", "B", "timeout:catches-everything", "C"]
        assert time.monotonic() - started < 30  # each stopped soon after 0.3 s; generous for a loaded machine
    finally:
        watchdog.close()


def _close_to_the_deadline(item: str) -> str:
    time.sleep(0.045)
    return item


def test_an_interruption_never_lands_outside_the_record_it_was_meant_for() -> None:
    # Records ending around the deadline race the watchdog: each gets its result or its timeout, and no
    # interruption escapes into the code around them.
    watchdog = DeadlineWatchdog(0.05)
    try:
        results = {watchdog.run(_close_to_the_deadline, "x", _timed_out) for _ in range(100)}
        assert results <= {"x", "timeout:x"}
        time.sleep(0.3)  # a stray interruption would land here, or in the next statement
        assert watchdog.run(_work, "d", _timed_out) == "D"
    finally:
        watchdog.close()
