"""Importing objects as another server stored them (``import_objects``):
timestamps kept, tombstones kept, the next write above them, all or
nothing within a transaction; on every backend."""

import pytest

from kinto_server.storage import ImportConflict, Imported
from tests.unit.storage.conftest import changes_since

R, P = "record", "/buckets/b/collections/c"


def record(object_id, last_modified, deleted=False, **data):
    return Imported(R, P, object_id, last_modified, deleted, data)


def since(storage, timestamp):
    return changes_since(storage, R, P, timestamp)


def test_imported_objects_keep_their_timestamps_data_and_tombstones(storage):
    imported = [record("b", 1_500_000_000_002, title="two"), record("gone", 1_500_000_000_003, deleted=True)]
    imported.append(record("a", 1_500_000_000_001, title="one", nested={"n": [1, 2]}))
    assert storage.import_objects(imported) == 3
    assert storage.get(resource_name=R, parent_id=P, object_id="a") == {
        "id": "a",
        "last_modified": 1_500_000_000_001,
        "title": "one",
        "nested": {"n": [1, 2]},
    }
    assert since(storage, 1_500_000_000_001) == [
        {"id": "gone", "last_modified": 1_500_000_000_003, "deleted": True},
        {"id": "b", "last_modified": 1_500_000_000_002, "title": "two"},
    ]
    assert storage.resource_timestamp(resource_name=R, parent_id=P) == 1_500_000_000_003


def test_the_next_write_gets_a_timestamp_above_the_imported_ones(storage):
    future = 4_000_000_000_000  # in 2096: above the clock
    storage.import_objects([record("a", future)])
    created = storage.create(resource_name=R, parent_id=P, obj={"id": "new"})
    assert created["last_modified"] > future
    assert [o["id"] for o in since(storage, future)] == ["new"]


def test_a_parent_timestamp_above_its_objects_is_kept(storage):
    future = 4_000_000_000_000
    storage.import_objects([record("a", 1_500_000_000_001)], timestamps=[(R, P, future)])
    storage.import_objects([], timestamps=[("collection", "/buckets/empty", future + 5)])
    assert storage.resource_timestamp(resource_name=R, parent_id=P) == future
    assert storage.resource_timestamp(resource_name="collection", parent_id="/buckets/empty") == future + 5
    assert storage.create(resource_name=R, parent_id=P, obj={"id": "b"})["last_modified"] > future


def test_parents_and_resources_are_imported_apart(storage):
    storage.import_objects(
        [
            Imported("bucket", "", "b", 1_500_000_000_001, False, {}),
            Imported("collection", "/buckets/b", "c", 1_500_000_000_001, False, {"schema": {}}),
            record("r", 1_500_000_000_001),
        ]
    )
    assert storage.get(resource_name="bucket", parent_id="", object_id="b")["last_modified"] == 1_500_000_000_001
    assert storage.get(resource_name="collection", parent_id="/buckets/b", object_id="c")["schema"] == {}
    assert storage.get(resource_name=R, parent_id=P, object_id="r")["id"] == "r"


@pytest.mark.parametrize(
    "clash",
    [record("a", 1_500_000_000_009), record("z", 1_500_000_000_001)],
    ids=["same id", "same timestamp in the parent"],
)
def test_an_object_clashing_with_a_stored_one_is_refused(storage, clash):
    storage.import_objects([record("a", 1_500_000_000_001)])
    with pytest.raises(ImportConflict, match="is already stored"):
        storage.import_objects([clash])


def test_a_refused_import_in_a_transaction_leaves_nothing(storage):
    storage.import_objects([record("a", 1_500_000_000_001)])
    client = storage.client
    client.start_request(readonly=False)
    try:
        with pytest.raises(ImportConflict):
            storage.import_objects([record(f"n{i}", 1_600_000_000_000 + i) for i in range(700)] + [record("a", 5)])
    finally:
        client.finish_request(commit=False)
    assert [o["id"] for o in since(storage, 0)] == ["a"]


def test_many_objects_are_imported_in_one_call(storage):
    imported = [record(f"r{i:05}", 1_500_000_000_000 + i, n=i) for i in range(1_234)]
    assert storage.import_objects(reversed(imported)) == 1_234
    assert storage.count_all(resource_name=R, parent_id=P) == 1_234
    assert [o["id"] for o in since(storage, 1_500_000_000_000 + 1_230)] == ["r01233", "r01232", "r01231"]
