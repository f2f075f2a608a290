"""The SQLite file: created with its schema on first start, refused with a
clear reason when it cannot serve, and upgraded by ``kinto_server migrate``."""

import shutil
import sqlite3
import threading

import pytest
from webtest import TestApp

from kinto_server import main
from kinto_server.database import sqlite
from kinto_server.errors import BackendUnavailable
from kinto_server.scripts import cli
from kinto_server.settings import ConfigurationError
from tests.support import ALICE, BASE_SETTINGS, create_bucket, create_collection, create_record, records_url


def settings(url):
    return {
        **BASE_SETTINGS,
        **{f"kinto.{role}_backend": "sqlite" for role in ("storage", "permission", "cache")},
        "kinto.storage_url": url,
    }


def test_a_new_file_and_its_folder_are_created_with_their_schema(tmp_path):
    path = tmp_path / "deep" / "er" / "kinto.sqlite"
    main({}, **settings(f"sqlite://{path}"))
    tables = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"objects", "timestamps", "access_control_entries", "user_principals", "cache"} <= tables


def test_a_file_that_is_not_a_database_stops_the_start_with_its_path(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database, only some notes " * 100)
    with pytest.raises(ConfigurationError, match=f"Cannot use the SQLite database {path}: .*not a database"):
        main({}, **settings(f"sqlite://{path}"))


def test_a_folder_that_cannot_be_made_stops_the_start(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigurationError, match="cannot create the folder"):
        main({}, **settings(f"sqlite://{blocker}/sub/kinto.sqlite"))


def test_a_folder_that_cannot_be_written_stops_the_start_with_a_reason():
    # /proc takes no new files, even from root (a chmod would not stop root).
    with pytest.raises(ConfigurationError, match="cannot open /proc/kinto.sqlite for writing.*its folder /proc"):
        main({}, **settings("sqlite:////proc/kinto.sqlite"))


def test_urls_name_absolute_relative_and_ini_relative_files():
    assert sqlite.database_path("sqlite:////var/lib/k.sqlite") == "/var/lib/k.sqlite"
    assert sqlite.database_path("sqlite:///" + "/srv/conf/data/k.sqlite") == "/srv/conf/data/k.sqlite"  # %(here)s
    assert sqlite.database_path("sqlite:///./data/k.sqlite", "/srv/conf") == "/srv/conf/./data/k.sqlite"
    assert sqlite.database_path("data/k.sqlite", "/srv/conf") == "/srv/conf/data/k.sqlite"


def test_an_older_schema_stops_the_start_until_migrated(tmp_path, monkeypatch, capsys):
    shipped = sqlite.MIGRATIONS_DIR
    folder = tmp_path / "migrations"
    shutil.copytree(shipped, folder)
    monkeypatch.setattr(sqlite, "MIGRATIONS_DIR", folder)
    path = tmp_path / "kinto.sqlite"
    main({}, **settings(f"sqlite://{path}"))
    (folder / "storage" / "0099_extra.sql").write_text("CREATE INDEX idx_extra ON objects (id);\n")
    with pytest.raises(ConfigurationError, match=r"storage 0099_extra.*run `kinto_server migrate`"):
        main({}, **settings(f"sqlite://{path}"))
    ini = tmp_path / "kinto.ini"
    assert cli.main(["init", "--ini", str(ini), "--backend", "sqlite", "--database-url", f"sqlite://{path}"]) == 0
    assert cli.main(["migrate", "--ini", str(ini)]) == 0
    assert "applied storage 0099_extra" in capsys.readouterr().out
    main({}, **settings(f"sqlite://{path}"))


def test_upgrading_a_file_of_the_first_schema_keeps_its_objects(tmp_path, monkeypatch):
    first = tmp_path / "first"
    shutil.copytree(sqlite.MIGRATIONS_DIR, first)
    for later in first.glob("*/000[2-9]_*.sql"):
        later.unlink()
    monkeypatch.setattr(sqlite, "MIGRATIONS_DIR", first)
    path = tmp_path / "kinto.sqlite"
    app = TestApp(main({}, **settings(f"sqlite://{path}")))
    create_bucket(app)
    create_collection(app)
    written = [create_record(app, {"n": n}) for n in range(3)]
    app.delete(f"{records_url()}/{written[1]['id']}", headers=ALICE)
    sqlite.SQLiteClient(path).close()
    monkeypatch.undo()

    ini = tmp_path / "kinto.ini"
    assert cli.main(["init", "--ini", str(ini), "--backend", "sqlite", "--database-url", f"sqlite://{path}"]) == 0
    assert cli.main(["migrate", "--ini", str(ini)]) == 0
    app = TestApp(main({}, **settings(f"sqlite://{path}")))
    listed = app.get(f"{records_url()}?_since=0", headers=ALICE).json["data"]
    assert [(o["id"], o.get("n"), o.get("deleted")) for o in listed] == [
        (written[1]["id"], None, True),  # deleted last: the newest
        (written[2]["id"], 2, None),
        (written[0]["id"], 0, None),
    ]
    assert app.get(f"{records_url()}/{written[0]['id']}", headers=ALICE).json["data"] == written[0]


def test_a_writer_waits_for_the_lock_then_gives_up_with_a_503(tmp_path):
    client = sqlite.SQLiteClient(tmp_path / "k.sqlite", busy_timeout=0.2)
    client.execute("CREATE TABLE t (x)")
    holder = sqlite3.connect(tmp_path / "k.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    client.start_request(readonly=False)
    with pytest.raises(BackendUnavailable, match="locked"):
        client.execute("INSERT INTO t VALUES (1)")
    holder.execute("ROLLBACK")
    client.finish_request(commit=False)


def test_writers_of_one_process_take_turns_on_its_lock(tmp_path):
    client = sqlite.SQLiteClient(tmp_path / "k.sqlite", busy_timeout=0.2)
    client.execute("CREATE TABLE t (x)")
    first_holds, first_may_commit, outcomes = threading.Event(), threading.Event(), []

    def first_writer():
        client.start_request(readonly=False)
        client.execute("INSERT INTO t VALUES (1)")
        first_holds.set()
        first_may_commit.wait()
        client.finish_request(commit=True)

    def second_writer():
        client.start_request(readonly=False)
        try:
            client.execute("INSERT INTO t VALUES (2)")
            outcomes.append("written")
            client.finish_request(commit=True)
        except BackendUnavailable as error:
            outcomes.append(str(error))
            client.finish_request(commit=False)

    first = threading.Thread(target=first_writer)
    first.start()
    first_holds.wait()
    second = threading.Thread(target=second_writer)
    second.start()
    second.join()  # gives up after busy_timeout: the first still holds the lock
    assert outcomes == ["SQLite: database is locked (by this server's other writers)"]
    first_may_commit.set()
    first.join()
    retried = threading.Thread(target=second_writer)
    retried.start()
    retried.join()
    assert outcomes[-1] == "written"
    assert client.execute("SELECT x FROM t ORDER BY x") == [(1,), (2,)]


def test_writers_of_two_processes_take_turns_on_the_turn_file(tmp_path):
    # Two clients of one file stand for two processes: each has its own
    # descriptor of <file>-writer, and flocks of two descriptors exclude.
    path = tmp_path / "k.sqlite"
    first, second = sqlite.SQLiteClient(path, busy_timeout=0.2), sqlite.SQLiteClient(path, busy_timeout=0.2)
    first.execute("CREATE TABLE t (x)")
    first.start_request(readonly=False)
    first.execute("INSERT INTO t VALUES (1)")
    second.start_request(readonly=False)
    with pytest.raises(BackendUnavailable, match="locked \\(by another process's writer\\)"):
        second.execute("INSERT INTO t VALUES (2)")
    second.finish_request(commit=False)
    first.finish_request(commit=True)
    second.start_request(readonly=False)
    second.execute("INSERT INTO t VALUES (2)")
    second.finish_request(commit=True)
    assert first.execute("SELECT x FROM t ORDER BY x") == [(1,), (2,)]
    assert (tmp_path / "k.sqlite-writer").exists()


def test_a_batch_sub_request_rolls_back_alone(tmp_path):
    client = sqlite.SQLiteClient(tmp_path / "k.sqlite")
    client.execute("CREATE TABLE t (x)")
    client.start_request(readonly=False)
    client.execute("INSERT INTO t VALUES (1)")
    for value, commit in ((2, False), (3, True)):
        client.start_request(readonly=False)
        client.execute("INSERT INTO t VALUES (?)", (value,))
        client.finish_request(commit=commit)
    client.finish_request(commit=True)
    assert client.execute("SELECT x FROM t ORDER BY x") == [(1,), (3,)]


def test_cached_reads_see_every_commit_of_other_connections_and_their_own(tmp_path):
    client = sqlite.SQLiteClient(tmp_path / "k.sqlite")
    client.execute("CREATE TABLE t (x)")
    read = "SELECT x FROM t ORDER BY x"
    assert client.execute_cached(read, ()) == []
    other_process = sqlite3.connect(tmp_path / "k.sqlite", isolation_level=None)
    other_process.execute("INSERT INTO t VALUES (1)")
    assert client.execute_cached(read, ()) == [(1,)]
    client.execute("INSERT INTO t VALUES (2)")  # its own write, alone
    assert client.execute_cached(read, ()) == [(1,), (2,)]
    client.start_request(readonly=False)
    client.execute("INSERT INTO t VALUES (3)")
    assert client.execute_cached(read, ()) == [(1,), (2,), (3,)]  # read through, in its transaction
    client.finish_request(commit=False)
    assert client.execute_cached(read, ()) == [(1,), (2,)]
    client.start_request(readonly=False)
    client.execute("INSERT INTO t VALUES (4)")
    client.finish_request(commit=True)
    assert client.execute_cached(read, ()) == [(1,), (2,), (4,)]
    other_process.execute("BEGIN IMMEDIATE")
    other_process.execute("DELETE FROM t WHERE x = 1")
    assert client.execute_cached(read, ()) == [(1,), (2,), (4,)]  # not committed yet
    other_process.execute("COMMIT")
    assert client.execute_cached(read, ()) == [(2,), (4,)]


def test_a_page_read_again_before_any_commit_asks_sqlite_nothing(tmp_path):
    app = TestApp(main({}, **settings(f"sqlite://{tmp_path / 'kinto.sqlite'}")))
    create_bucket(app)
    create_collection(app)
    create_record(app, {"n": 1})
    client = app.app.registry.storage.client
    for _ in range(2):
        app.get(records_url(), headers=ALICE)
    seen = []
    client.connection().set_trace_callback(seen.append)
    assert [r["n"] for r in app.get(records_url(), headers=ALICE).json["data"]] == [1]
    assert seen == []
    create_record(app, {"n": 2})
    assert sorted(r["n"] for r in app.get(records_url(), headers=ALICE).json["data"]) == [1, 2]


def test_answers_too_large_for_the_cache_are_read_each_time(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite, "CACHED_BYTES", 400)
    client = sqlite.SQLiteClient(tmp_path / "k.sqlite")
    client.execute("CREATE TABLE t (x)")
    client.execute("INSERT INTO t VALUES (?)", ("a" * 200,))
    small, large = "SELECT length(x) FROM t", "SELECT x FROM t"
    for _ in range(2):
        client.execute_cached(small, ())
        client.execute_cached(large, ())
    seen = []
    client.connection().set_trace_callback(seen.append)
    assert client.execute_cached(small, ()) == [(200,)]
    assert client.execute_cached(large, ()) == [("a" * 200,)]
    assert seen == [large]


def test_reads_inside_a_snapshot_are_never_answered_from_the_cache(tmp_path):
    client = sqlite.SQLiteClient(tmp_path / "k.sqlite")
    client.execute("CREATE TABLE t (x)")
    read = "SELECT x FROM t"
    for _ in range(2):
        client.execute_cached(read, ())
    seen = []
    client.connection().set_trace_callback(seen.append)
    with client.snapshot():
        client.execute_cached(read, ())
    assert read in seen


def test_a_write_request_reads_under_the_write_lock_not_from_the_cache(tmp_path):
    client = sqlite.SQLiteClient(tmp_path / "k.sqlite")
    client.execute("CREATE TABLE t (x)")
    read = "SELECT x FROM t"
    client.execute_cached(read, ())  # cached
    client.start_request(readonly=False)
    client.execute_cached(read, ())
    other_process = sqlite3.connect(tmp_path / "k.sqlite", isolation_level=None, timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other_process.execute("BEGIN IMMEDIATE")  # the request holds the lock since its read
    client.finish_request(commit=True)


def test_a_permission_withdrawn_by_another_process_is_enforced_at_once(tmp_path):
    path = tmp_path / "kinto.sqlite"
    app = TestApp(main({}, **settings(f"sqlite://{path}")))
    create_bucket(app)
    create_collection(app)
    record = create_record(app, {"n": 1})
    url = f"{records_url()}/{record['id']}"
    app.patch_json(url, {"permissions": {"read": ["system.Everyone"]}}, headers=ALICE)
    for _ in range(2):  # the first read asks SQLite for the file's version, the second reads the WAL-index
        assert app.get(url).json["data"]["n"] == 1  # anonymous, read and cached
    other_process = sqlite3.connect(path, isolation_level=None)
    other_process.execute("DELETE FROM access_control_entries WHERE principal = 'system.Everyone'")
    app.get(url, status=401)


def test_each_thread_has_its_own_connection(tmp_path):
    client = sqlite.SQLiteClient(tmp_path / "k.sqlite")
    seen = []
    thread = threading.Thread(target=lambda: seen.append(client.connection()))
    thread.start()
    thread.join()
    assert seen[0] is not client.connection()


def test_a_failing_sql_function_is_a_bug_not_an_outage(tmp_path):
    client = sqlite.SQLiteClient(tmp_path / "k.sqlite")
    client.add_functions(lambda connection: connection.create_function("broken", 0, lambda: 1 / 0))
    with pytest.raises(sqlite3.OperationalError, match="user-defined function"):
        client.execute("SELECT broken()")
