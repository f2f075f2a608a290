"""``kinto_server backup`` copies a SQLite database while the server keeps
serving writes: every copy is a consistent state (whole batches, every
batch acknowledged before the copy began, the collection's timestamp that
of its newest record), writers are never refused, and a server started on
the copy serves it."""

import sqlite3
import threading
import time
from collections import Counter

import pytest

from kinto_server.scripts import cli
from tests.system.servers import ServerProcess, send_batches, session, write_ini

pytestmark = pytest.mark.system

RECORDS = "/buckets/backup/collections/c/records"


def stored_batches(path):
    """The batches in a copy, with their sizes, and whether the collection's
    timestamp is that of its newest record (the ETag a client would get)."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT json_extract(data, '$.batch'), last_modified FROM objects"
            " WHERE resource_name = 'record' AND parent_id = '/buckets/backup/collections/c'"
        ).fetchall()
        (stamp,) = connection.execute(
            "SELECT last_modified FROM timestamps WHERE resource_name = 'record'"
            " AND parent_id = '/buckets/backup/collections/c'"
        ).fetchone()
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()
    return Counter(batch for batch, _ in rows), stamp == max(modified for _, modified in rows)


def test_backups_taken_under_writes_are_consistent_copies_that_serve(tmp_path, capsys):
    ini, port = write_ini(tmp_path, f"sqlite://{tmp_path}/live.sqlite", name="live")
    server = ServerProcess(ini, port, tmp_path / "live.log")
    http = session()
    try:
        assert http.put(f"{server.url}/buckets/backup").status_code == 201
        assert http.put(f"{server.url}/buckets/backup/collections/c").status_code == 201
        acknowledged, refused, stop = [], [], threading.Event()
        writers = [
            threading.Thread(target=send_batches, args=(server.url, RECORDS, w, acknowledged, stop, refused))
            for w in range(3)
        ]
        for writer in writers:
            writer.start()
        copies = []
        try:
            time.sleep(0.5)
            for n in range(8):
                before = set(acknowledged)
                out = tmp_path / f"copy-{n}.sqlite"
                assert cli.main(["backup", "--ini", str(ini), str(out)]) == 0
                copies.append((out, before))
                time.sleep(0.2)
        finally:
            stop.set()
            for writer in writers:
                writer.join(timeout=30)
    finally:
        server.stop()
    assert "Backed up storage, permission" in capsys.readouterr().out
    assert not refused
    sizes = []
    for out, before in copies:
        batches, etag_is_newest_record = stored_batches(out)
        assert set(batches.values()) == {25}  # whole batches only
        assert before <= set(batches)  # everything acknowledged before the copy
        assert etag_is_newest_record
        sizes.append(len(batches))
    print(f"\nbatches in the copies: {sizes}, acknowledged in all: {len(acknowledged)}")
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]  # the server kept writing between copies
    assert not list(tmp_path.glob(".*partial*"))

    last, _ = copies[-1]
    restored_ini, restored_port = write_ini(tmp_path, f"sqlite://{last}", name="restored")
    restored = ServerProcess(restored_ini, restored_port, tmp_path / "restored.log")
    try:
        response = http.head(f"{restored.url}{RECORDS}")
        assert response.status_code == 200
        assert int(response.headers["Total-Records"]) == 25 * sizes[-1]
    finally:
        restored.stop()


def test_a_backup_refuses_to_overwrite_and_names_what_is_missing(tmp_path, capsys):
    ini, port = write_ini(tmp_path, f"sqlite://{tmp_path}/never-started.sqlite", name="new")
    assert cli.main(["backup", "--ini", str(ini), str(tmp_path / "out.sqlite")]) == 1
    assert "there is no database at" in capsys.readouterr().err
    (tmp_path / "never-started.sqlite").write_bytes(b"")
    existing = tmp_path / "existing.sqlite"
    existing.write_text("keep me")
    assert cli.main(["backup", "--ini", str(ini), str(existing)]) == 1
    assert "already exists (use --force" in capsys.readouterr().err
    assert existing.read_text() == "keep me"
    assert cli.main(["backup", "--ini", str(ini), str(tmp_path / "no" / "such" / "folder.sqlite")]) == 1
    assert "no folder" in capsys.readouterr().err
