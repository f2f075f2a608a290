"""An unfiltered count (``Total-Records``) is kept by the writes rather
than counted: whatever writes, it stays the number of live objects."""

import pytest

from kinto_server.storage import Filter, Imported, Operator

R, P = "record", "/buckets/b/collections/c"
EVERYTHING = [Filter("last_modified", 0, Operator.GT)]  # a filter: a real count


def counted(storage, resource_name=R, parent_id=P):
    kept = storage.count_all(resource_name=resource_name, parent_id=parent_id)
    assert kept == storage.count_all(resource_name=resource_name, parent_id=parent_id, filters=EVERYTHING)
    return kept


def test_every_kind_of_write_keeps_the_count_exact(storage):
    assert counted(storage) == 0
    for i in range(5):
        storage.create(resource_name=R, parent_id=P, obj={"id": f"r{i}", "history": "x"})
    assert counted(storage) == 5
    storage.update(resource_name=R, parent_id=P, object_id="r0", obj={"v": 2})  # replaced: no change
    storage.update(resource_name=R, parent_id=P, object_id="new", obj={})  # created by an update
    assert counted(storage) == 6
    storage.delete(resource_name=R, parent_id=P, object_id="r1")
    storage.delete_all(resource_name=R, parent_id=P, object_ids=["r2", "r3"])
    assert counted(storage) == 3
    storage.create(resource_name=R, parent_id=P, obj={"id": "r1"})  # a tombstone revived
    storage.update(resource_name=R, parent_id=P, object_id="r2", obj={})  # one more
    assert counted(storage) == 5
    storage.purge_deleted(resource_name=R, parent_id=P)  # tombstones only
    assert counted(storage) == 5
    storage.create_many(resource_name=R, parent_id=P, objs=[{"id": f"m{i}"} for i in range(1_200)])
    storage.import_objects([Imported(R, P, "imp", 1, False, {}), Imported(R, P, "gone", 2, True, {})])
    assert counted(storage) == 5 + 1_200 + 1
    assert counted(storage, parent_id="/buckets/b/collections/other") == 0


def test_trims_tree_deletes_and_flush_keep_it_too(storage):
    history = "/buckets/b"
    for i in range(6):
        storage.create(resource_name="history", parent_id=history, obj={"id": f"h{i}", "resource_name": "record"})
    storage.trim_objects(resource_name="history", parent_id=history, equal={"resource_name": "record"}, keep=2)
    assert counted(storage, "history", history) == 2
    storage.create(resource_name=R, parent_id=P, obj={"id": "a"})
    storage.create(resource_name="collection", parent_id=history, obj={"id": "c"})
    storage.delete_tree(parent_uri=history)
    assert counted(storage) == 0
    assert counted(storage, "collection", history) == 0
    storage.create(resource_name=R, parent_id=P, obj={"id": "again"})
    assert counted(storage) == 1
    storage.flush()
    assert counted(storage) == 0
    storage.create(resource_name=R, parent_id=P, obj={"id": "after"})
    assert counted(storage) == 1


def test_a_rolled_back_write_leaves_the_count_as_it_was(storage):
    storage.create(resource_name=R, parent_id=P, obj={"id": "kept"})
    client = storage.client
    client.start_request(readonly=False)
    try:
        storage.create_many(resource_name=R, parent_id=P, objs=[{"id": f"n{i}"} for i in range(10)])
        storage.delete(resource_name=R, parent_id=P, object_id="kept")
    finally:
        client.finish_request(commit=False)
    assert counted(storage) == 1


@pytest.mark.parametrize("size", [2_000])
def test_a_filtered_count_still_counts(storage, size):
    storage.create_many(resource_name=R, parent_id=P, objs=[{"id": f"r{i}", "even": i % 2 == 0} for i in range(size)])
    evens = storage.count_all(resource_name=R, parent_id=P, filters=[Filter("even", True)])
    assert evens == size // 2
    assert storage.count_all(resource_name=R, parent_id=P, object_ids=["r1", "r2", "nope"]) == 2
