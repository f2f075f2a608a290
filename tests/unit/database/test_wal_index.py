"""The commit check of cached SQLite reads: the WAL-index header is read
with no SQLite call, sees every commit of every connection and process,
and is never trusted when it cannot be."""

import sqlite3
import struct
import subprocess
import sys

from kinto_server.database import sqlite, wal_index

READ = "SELECT x FROM t ORDER BY x"


def header(version=wal_index.VERSION, change=1, initialised=1):
    block = struct.pack("=IIIBBHII", version, 0, change, initialised, 0, 4096, 7, 3) + bytes(24)
    return block + block


def client_with_table(path):
    client = sqlite.SQLiteClient(path)
    client.execute("CREATE TABLE t (x)")
    return client


def statements_of(client):
    seen = []
    client.connection().set_trace_callback(seen.append)
    return seen


def test_a_header_whose_two_copies_agree_is_its_stamp():
    assert wal_index.stamp_of(header()) == header()[: wal_index.BLOCK]
    assert wal_index.stamp_of(header(change=2)) != wal_index.stamp_of(header(change=1))


def test_a_header_being_written_an_unknown_one_or_one_not_initialised_is_not_trusted():
    being_written = header(change=2)[: wal_index.BLOCK] + header(change=1)[wal_index.BLOCK :]
    assert wal_index.stamp_of(being_written) is None
    assert wal_index.stamp_of(header(version=3007001)) is None
    assert wal_index.stamp_of(header(initialised=0)) is None
    assert wal_index.stamp_of(header()[:60]) is None


def test_a_cached_read_makes_no_sqlite_call_while_nothing_commits(tmp_path):
    client = client_with_table(tmp_path / "k.sqlite")
    client.execute_cached(READ, ())  # the first check asks SQLite, then maps -shm
    client.execute_cached(READ, ())
    seen = statements_of(client)
    assert client.execute_cached(READ, ()) == []
    assert seen == []


def test_without_a_shm_file_the_check_asks_sqlite(tmp_path):
    client = sqlite.SQLiteClient(":memory:")
    client.execute("CREATE TABLE t (x)")
    client.execute_cached(READ, ())
    seen = statements_of(client)
    client.execute_cached(READ, ())
    assert seen == ["PRAGMA data_version"]


def test_a_commit_of_another_process_is_seen_by_the_next_cached_read(tmp_path):
    path = tmp_path / "k.sqlite"
    client = client_with_table(path)
    for _ in range(3):
        client.execute_cached(READ, ())
    writer = f"import sqlite3; sqlite3.connect({str(path)!r}, isolation_level=None).execute('INSERT INTO t VALUES (7)')"
    subprocess.run([sys.executable, "-c", writer], check=True)
    seen = statements_of(client)
    assert client.execute_cached(READ, ()) == [(7,)]
    assert READ in seen  # read again, not answered from the cache


def test_commits_after_a_checkpoint_restarts_the_wal_are_seen(tmp_path):
    path = tmp_path / "k.sqlite"
    client = client_with_table(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("INSERT INTO t VALUES (1)")
    assert client.execute_cached(READ, ()) == [(1,)]
    assert client.execute_cached(READ, ()) == [(1,)]
    other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert client.execute_cached(READ, ()) == [(1,)]
    other.execute("DELETE FROM t")  # the first commit into the restarted WAL
    assert client.execute_cached(READ, ()) == []
    other.execute("INSERT INTO t VALUES (2)")
    assert client.execute_cached(READ, ()) == [(2,)]


def test_a_rolled_back_write_of_another_connection_keeps_the_cache(tmp_path):
    path = tmp_path / "k.sqlite"
    client = client_with_table(path)
    client.execute_cached(READ, ())
    client.execute_cached(READ, ())
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    other.execute("ROLLBACK")
    seen = statements_of(client)
    assert client.execute_cached(READ, ()) == []
    assert seen == []


def test_closing_the_client_unmaps_the_file(tmp_path):
    client = client_with_table(tmp_path / "k.sqlite")
    client.execute_cached(READ, ())
    index = client._wal_index[1]
    client.close()
    assert index.map is None and client._wal_index is None
