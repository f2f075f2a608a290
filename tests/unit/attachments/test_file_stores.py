"""The contract of the attachment file stores, on each: a local folder and
an S3-compatible server."""

import pytest


def save(store, key, content, mimetype="text/plain"):
    incoming = store.incoming()
    with incoming:
        incoming.write(content)
    store.save(key, incoming.name, mimetype=mimetype)


def read(store, key):
    found = store.open(key)
    try:
        return found.size, found.stream.read(1 << 20)
    finally:
        found.stream.close()


def test_a_saved_file_reads_back_with_its_size(store):
    save(store, "b/c/0123456789abcdef0123456789abcdef.txt", b"hello world")
    assert read(store, "b/c/0123456789abcdef0123456789abcdef.txt") == (11, b"hello world")


def test_a_stored_file_can_be_read_from_an_offset(store):
    save(store, "k.bin", bytes(range(256)) * 100)
    found = store.open("k.bin")
    try:
        found.stream.seek(25_000)
        assert found.stream.read(10) == (bytes(range(256)) * 100)[25_000:25_010]
    finally:
        found.stream.close()


def test_a_missing_file_opens_as_none_and_deletes_quietly(store):
    assert store.open("nothing/here.txt") is None
    store.delete("nothing/here.txt")


def test_delete_removes_one_and_delete_all_every_file(store):
    for key in ("a/1.txt", "a/2.txt", "b/3.txt"):
        save(store, key, key.encode())
    store.delete("a/1.txt")
    assert store.open("a/1.txt") is None
    assert read(store, "a/2.txt") == (7, b"a/2.txt")
    store.delete_all()
    assert store.open("a/2.txt") is None and store.open("b/3.txt") is None


def test_the_heartbeat_answers_true_and_leaves_nothing(store):
    assert store.heartbeat() is True
    store.delete_all()
    assert store.heartbeat() is True


def test_a_local_store_never_reaches_outside_its_folder(tmp_path):
    from kinto_server.plugins.attachments.files import LocalFileStore

    (tmp_path / "secret.txt").write_text("outside")
    store = LocalFileStore(tmp_path / "files")
    assert store.open("../secret.txt") is None
    store.delete("../secret.txt")
    assert (tmp_path / "secret.txt").exists()
    incoming = store.incoming()
    with incoming:
        incoming.write(b"x")
    with pytest.raises(ValueError):
        store.save("../../escape.txt", incoming.name, mimetype="text/plain")
    assert store.open(".incoming/" + incoming.name.rsplit("/", 1)[1]) is None  # uploads in progress are not files
