"""The memory backends' request transactions: write requests one at a time,
reads in parallel, and a rolled-back request undone whole."""

import threading
import time

from kinto_server.database.journal import Journal


def peak_concurrency(journal, readonly, count=4):
    active, peak, lock = [0], [0], threading.Lock()

    def request():
        journal.start_request(readonly)
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        journal.finish_request(commit=True)

    threads = [threading.Thread(target=request) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return peak[0]


def test_write_requests_run_one_at_a_time():
    assert peak_concurrency(Journal(), readonly=False) == 1


def test_read_requests_run_in_parallel():
    assert peak_concurrency(Journal(), readonly=True) > 1


def test_rolling_back_undoes_in_reverse_order_and_only_the_innermost_request():
    journal, done = Journal(), []
    journal.start_request(readonly=False)
    journal.record(lambda: done.append("outer"))
    journal.start_request(readonly=False)
    journal.record(lambda: done.append("inner 1"))
    journal.record(lambda: done.append("inner 2"))
    journal.finish_request(commit=False)
    assert done == ["inner 2", "inner 1"]
    journal.finish_request(commit=True)
    assert done == ["inner 2", "inner 1"]


def test_undoing_records_nothing_and_outside_requests_nothing_is_recorded():
    journal, done = Journal(), []
    journal.record(lambda: done.append("outside"))
    journal.start_request(readonly=False)
    journal.record(lambda: journal.record(lambda: done.append("recorded while undoing")))
    journal.finish_request(commit=False)
    journal.start_request(readonly=False)
    journal.finish_request(commit=False)
    assert done == []
