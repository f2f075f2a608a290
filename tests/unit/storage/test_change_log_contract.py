"""The change log every storage backend keeps for the live change stream:
committed changes only, in commit order, from any cursor, with ``reset``
for a cursor that cannot be followed."""

import threading
import time

import pytest

from kinto_server.storage.postgresql import PostgreSQLStorage
from tests.backends import BACKENDS, database_client

P = "/buckets/b/collections/c"


def record(object_id, last_modified=1):
    return {"id": object_id, "last_modified": last_modified, "title": object_id}


def log(storage, *object_ids, action="create", parent_id=P):
    storage.client.start_request(readonly=False)
    storage.log_changes([(action, "record", parent_id, record(i)) for i in object_ids])
    storage.client.finish_request(commit=True)


def read_all(storage, cursor, limit=1000):
    page = storage.changes_after(cursor, limit)
    assert not page.reset
    return [c.obj["id"] for c in page.changes], page.cursor


def test_changes_are_read_after_the_cursor_in_the_order_they_were_logged(storage):
    start = storage.changes_after(None, 10).cursor
    log(storage, "a", "b")
    log(storage, "c", action="update", parent_id="/buckets/b/collections/other")
    page = storage.changes_after(start, 10)
    assert [(c.action, c.resource_name, c.parent_id, c.obj) for c in page.changes] == [
        ("create", "record", P, record("a")),
        ("create", "record", P, record("b")),
        ("update", "record", "/buckets/b/collections/other", record("c")),
    ]
    cursors = [c.cursor for c in page.changes]
    assert cursors == sorted(cursors) and len(set(cursors)) == 3
    assert all(len(c) == storage.cursor_length for c in cursors)
    assert page.cursor >= cursors[-1]
    ids, cursor = read_all(storage, page.cursor)
    assert ids == [] and cursor >= page.cursor  # PostgreSQL's end moves on with its clock


def test_a_page_stops_at_the_limit_and_the_next_one_goes_on_from_its_cursor(storage):
    start = storage.changes_after(None, 10).cursor
    log(storage, *[f"r{i}" for i in range(7)])
    seen, cursor = [], start
    for _ in range(4):
        ids, cursor = read_all(storage, cursor, limit=3)
        seen += ids
    assert seen == [f"r{i}" for i in range(7)]


def test_the_end_of_the_log_is_a_cursor_after_every_change_logged_so_far(storage):
    log(storage, "old")
    end = storage.changes_after(None, 10).cursor
    assert read_all(storage, end)[0] == []
    log(storage, "new")
    assert read_all(storage, end)[0] == ["new"]


def test_changes_of_a_rolled_back_transaction_are_never_read(storage):
    start = storage.changes_after(None, 10).cursor
    storage.client.start_request(readonly=False)
    storage.log_changes([("create", "record", P, record("undone"))])
    storage.client.finish_request(commit=False)
    log(storage, "kept")
    assert read_all(storage, start)[0] == ["kept"]


def test_a_change_is_not_read_before_its_transaction_commits(storage):
    start = storage.changes_after(None, 10).cursor
    logged, release = threading.Event(), threading.Event()

    def writer():
        storage.client.start_request(readonly=False)
        storage.log_changes([("create", "record", P, record("slow"))])
        logged.set()
        release.wait(10)
        storage.client.finish_request(commit=True)

    thread = threading.Thread(target=writer)
    thread.start()
    assert logged.wait(10)
    answers = []
    reader = threading.Thread(target=lambda: answers.append(read_all(storage, start)[0]))
    reader.start()
    reader.join(0.3)  # memory readers wait for the writer; the others read at once
    if answers:
        assert answers == [[]]
    release.set()
    thread.join(10)
    reader.join(10)
    assert answers in ([[]], [["slow"]])
    assert read_all(storage, start)[0] == ["slow"]


def test_purged_changes_leave_older_cursors_reading_reset(storage):
    before = storage.changes_after(None, 10).cursor
    log(storage, "a")
    after_a = storage.changes_after(before, 10).changes[0].cursor
    time.sleep(0.01)
    cutoff = int(time.time() * 1000)
    time.sleep(0.01)
    log(storage, "b")
    assert storage.purge_changes(cutoff) == 1
    assert storage.changes_after(before, 10).reset
    assert read_all(storage, after_a)[0] == ["b"]
    assert storage.purge_changes(cutoff) == 0


def test_after_a_flush_every_earlier_cursor_reads_reset(storage):
    before = storage.changes_after(None, 10).cursor
    log(storage, "a")
    storage.flush()
    page = storage.changes_after(before, 10)
    assert page.reset and page.changes == []
    log(storage, "b")
    assert read_all(storage, page.cursor)[0] == ["b"]


def test_a_cursor_beyond_the_end_of_the_log_reads_reset(storage):
    end = storage.changes_after(None, 10).cursor
    bogus = (end[0] + 10**12,) + end[1:]
    page = storage.changes_after(bogus, 10)
    assert page.reset and page.cursor <= bogus
    log(storage, "a")
    assert read_all(storage, page.cursor)[0] == ["a"]


@pytest.fixture
def postgresql_storage():
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL is not among KINTO_TEST_BACKENDS")
    return PostgreSQLStorage(database_client())


def test_postgresql_reads_nothing_past_a_transaction_still_writing(postgresql_storage):
    """Writes of different parents commit in any order: one logged later may
    commit first. The reader must not move its cursor past the earlier one."""
    storage = postgresql_storage
    start = storage.changes_after(None, 10).cursor
    logged, release = threading.Event(), threading.Event()

    def slow_writer():
        storage.client.start_request(readonly=False)
        storage.log_changes([("create", "record", P, record("first-logged"))])
        storage.client.execute("SELECT 1")  # The log's insert waits for a next statement (or the COMMIT).
        logged.set()
        release.wait(10)
        storage.client.finish_request(commit=True)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert logged.wait(10)
        log(storage, "committed-first", parent_id="/buckets/b/collections/other")
        ids, cursor = read_all(storage, start)
        assert ids == []
        time.sleep(0.01)
        assert read_all(storage, start) == ([], cursor)  # held at the writer's start
    finally:
        release.set()
        thread.join(10)
    ids, _ = read_all(storage, cursor)
    assert ids == ["first-logged", "committed-first"]
