"""Creating many objects of one parent at once (``create_many``, what the
``import`` command writes through): the same objects and timestamps as
creating them one by one, hundreds to a statement; on every backend."""

import pytest

from kinto_server.storage import ObjectExistsError
from tests.unit.storage.conftest import changes_since

R, P = "record", "/buckets/b/collections/c"


def since(storage, timestamp):
    return changes_since(storage, R, P, timestamp)


def test_objects_are_stored_with_increasing_timestamps_above_the_parents(storage):
    before = storage.create(resource_name=R, parent_id=P, obj={"id": "old"})["last_modified"]
    created = storage.create_many(
        resource_name=R,
        parent_id=P,
        objs=[{"id": "b", "title": "two", "last_modified": 42}, {"id": "a", "nested": {"n": [1]}}],
    )
    first, second = created
    assert before < first["last_modified"] < second["last_modified"]
    assert first == {"id": "b", "title": "two", "last_modified": first["last_modified"]}
    assert storage.get(resource_name=R, parent_id=P, object_id="a") == second
    assert storage.resource_timestamp(resource_name=R, parent_id=P) == second["last_modified"]
    assert since(storage, before) == [second, first]
    after = storage.create(resource_name=R, parent_id=P, obj={"id": "new"})
    assert after["last_modified"] > second["last_modified"]


def test_thousands_are_stored_in_one_call_in_the_order_given(storage):
    created = storage.create_many(resource_name=R, parent_id=P, objs=({"id": f"r{i:05}", "n": i} for i in range(1_234)))
    stamps = [obj["last_modified"] for obj in created]
    assert stamps == sorted(stamps) and len(set(stamps)) == 1_234
    assert storage.count_all(resource_name=R, parent_id=P) == 1_234
    newest = storage.list_all(resource_name=R, parent_id=P, limit=2)
    assert [obj["id"] for obj in newest] == ["r01233", "r01232"]


def test_a_tombstone_is_revived_as_create_does(storage):
    storage.create(resource_name=R, parent_id=P, obj={"id": "a", "v": 1})
    storage.delete(resource_name=R, parent_id=P, object_id="a")
    (revived,) = storage.create_many(resource_name=R, parent_id=P, objs=[{"id": "a", "v": 2}])
    assert storage.get(resource_name=R, parent_id=P, object_id="a") == revived
    assert revived["v"] == 2


@pytest.mark.parametrize("where", ["stored", "earlier in the call", "in an earlier statement"])
def test_an_id_that_exists_is_refused_with_the_existing_object(storage, where):
    objs = [{"id": "x", "v": "first"}]
    if where == "stored":
        storage.create(resource_name=R, parent_id=P, obj={"id": "x", "v": "first"})
        objs = []
    elif where == "in an earlier statement":
        objs += [{"id": f"n{i}"} for i in range(600)]
    with pytest.raises(ObjectExistsError) as refused:
        storage.create_many(resource_name=R, parent_id=P, objs=[*objs, {"id": "x", "v": "second"}])
    assert refused.value.existing["v"] == "first"


def test_a_refused_call_in_a_transaction_leaves_nothing(storage):
    storage.create(resource_name=R, parent_id=P, obj={"id": "a"})
    client = storage.client
    client.start_request(readonly=False)
    try:
        with pytest.raises(ObjectExistsError):
            storage.create_many(
                resource_name=R, parent_id=P, objs=[*({"id": f"n{i}"} for i in range(700)), {"id": "a"}]
            )
    finally:
        client.finish_request(commit=False)
    assert [obj["id"] for obj in since(storage, 0)] == ["a"]
