"""The storage contract, run against every backend."""

import threading

import pytest

from kinto_server.storage import Filter, ObjectExistsError, ObjectNotFoundError, Operator, Sort

R, P = "record", "/buckets/b/collections/c"


def create(storage, object_id, **data):
    return storage.create(resource_name=R, parent_id=P, obj={"id": object_id, **data})


def listed(storage, **kwargs):
    return [o["id"] for o in storage.list_all(resource_name=R, parent_id=P, **kwargs)]


def test_create_assigns_last_modified_and_get_returns_object(storage):
    created = create(storage, "a", title="x")
    assert isinstance(created["last_modified"], int)
    assert storage.get(resource_name=R, parent_id=P, object_id="a") == created


def test_create_existing_raises_with_existing_object(storage):
    create(storage, "a")
    with pytest.raises(ObjectExistsError) as error:
        create(storage, "a")
    assert error.value.existing["id"] == "a"


def test_get_missing_raises(storage):
    with pytest.raises(ObjectNotFoundError):
        storage.get(resource_name=R, parent_id=P, object_id="missing")


def test_objects_are_scoped_by_parent_and_resource(storage):
    create(storage, "a")
    with pytest.raises(ObjectNotFoundError):
        storage.get(resource_name=R, parent_id="/buckets/b/collections/other", object_id="a")
    with pytest.raises(ObjectNotFoundError):
        storage.get(resource_name="collection", parent_id=P, object_id="a")


def test_timestamps_are_unique_and_increasing_even_within_one_millisecond(storage):
    stamps = [create(storage, f"o{i}")["last_modified"] for i in range(200)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 200


def test_timestamps_stay_unique_under_threads(storage):
    stamps, lock = [], threading.Lock()

    def writer(n):
        for i in range(50):
            obj = create(storage, f"t{n}-{i}")
            with lock:
                stamps.append(obj["last_modified"])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(stamps)) == 200


def test_update_upserts_and_bumps_timestamp(storage):
    first = storage.update(resource_name=R, parent_id=P, object_id="a", obj={"v": 1})
    second = storage.update(resource_name=R, parent_id=P, object_id="a", obj={"v": 2})
    assert second["last_modified"] > first["last_modified"]
    assert storage.get(resource_name=R, parent_id=P, object_id="a")["v"] == 2


def test_update_keeps_requested_timestamp_only_if_newer(storage):
    create(storage, "a")
    old = storage.update(resource_name=R, parent_id=P, object_id="b", obj={"last_modified": 1})
    assert old["last_modified"] > 1
    future = old["last_modified"] + 10_000
    kept = storage.update(resource_name=R, parent_id=P, object_id="c", obj={"last_modified": future})
    assert kept["last_modified"] == future


def test_delete_leaves_tombstone_seen_by_resource_timestamp(storage):
    create(storage, "a")
    tombstone = storage.delete(resource_name=R, parent_id=P, object_id="a")
    assert tombstone == {"id": "a", "last_modified": tombstone["last_modified"], "deleted": True}
    assert storage.resource_timestamp(resource_name=R, parent_id=P) == tombstone["last_modified"]
    assert listed(storage) == []
    assert listed(storage, include_deleted=True) == ["a"]
    with pytest.raises(ObjectNotFoundError):
        storage.delete(resource_name=R, parent_id=P, object_id="a")


def test_recreating_replaces_tombstone(storage):
    create(storage, "a")
    storage.delete(resource_name=R, parent_id=P, object_id="a")
    create(storage, "a")
    assert [o.get("deleted", False) for o in storage.list_all(resource_name=R, parent_id=P, include_deleted=True)] == [
        False
    ]


def test_resource_timestamp_of_empty_parent_is_stable(storage):
    first = storage.resource_timestamp(resource_name=R, parent_id="/empty")
    assert storage.resource_timestamp(resource_name=R, parent_id="/empty") == first


def test_list_sorts_filters_and_paginates(storage):
    for i, status in enumerate(["a", "b", "a", "c", "a"]):
        create(storage, f"o{i}", status=status, rank=i % 3)
    assert listed(storage) == ["o4", "o3", "o2", "o1", "o0"]
    assert listed(storage, filters=[Filter("status", "a")]) == ["o4", "o2", "o0"]
    sorting = (Sort("rank"), Sort("status", descending=True))
    assert listed(storage, sorting=sorting) == ["o3", "o0", "o1", "o4", "o2"]
    assert listed(storage, sorting=sorting, limit=2) == ["o3", "o0"]
    after = {"id": "o0", "rank": 0, "status": "a"}
    assert listed(storage, sorting=sorting, after=after) == ["o1", "o4", "o2"]


def test_list_by_timestamp_merges_tombstones(storage):
    for i in range(4):
        create(storage, f"o{i}")
    storage.delete(resource_name=R, parent_id=P, object_id="o1")
    since = storage.get(resource_name=R, parent_id=P, object_id="o2")["last_modified"]
    flt = [Filter("last_modified", since, Operator.GT)]
    assert listed(storage, filters=flt, include_deleted=True, sorting=(Sort("last_modified"),)) == ["o3", "o1"]


def test_list_restricted_to_object_ids(storage):
    for i in range(3):
        create(storage, f"o{i}")
    assert listed(storage, object_ids={"o0", "o2"}) == ["o2", "o0"]
    assert storage.count_all(resource_name=R, parent_id=P, object_ids={"o0"}) == 1


def test_count_ignores_tombstones(storage):
    for i in range(3):
        create(storage, f"o{i}", even=i % 2 == 0)
    storage.delete(resource_name=R, parent_id=P, object_id="o0")
    assert storage.count_all(resource_name=R, parent_id=P) == 2
    assert storage.count_all(resource_name=R, parent_id=P, filters=[Filter("even", True)]) == 1


def test_delete_all_with_filters(storage):
    for i in range(4):
        create(storage, f"o{i}", even=i % 2 == 0)
    tombstones = storage.delete_all(resource_name=R, parent_id=P, filters=[Filter("even", True)])
    assert sorted(t["id"] for t in tombstones) == ["o0", "o2"]
    assert sorted(listed(storage)) == ["o1", "o3"]


def test_delete_tree_removes_descendants_without_tombstones(storage):
    storage.create(resource_name="collection", parent_id="/buckets/b", obj={"id": "c"})
    create(storage, "a")
    storage.create(resource_name="record", parent_id="/buckets/bb/collections/c", obj={"id": "keep"})
    storage.delete_tree(parent_uri="/buckets/b")
    assert storage.list_all(resource_name="collection", parent_id="/buckets/b", include_deleted=True) == []
    assert listed(storage, include_deleted=True) == []
    assert storage.get(resource_name=R, parent_id="/buckets/bb/collections/c", object_id="keep")


def test_purge_deleted_removes_old_tombstones(storage):
    for i in range(3):
        create(storage, f"o{i}")
        storage.delete(resource_name=R, parent_id=P, object_id=f"o{i}")
    assert storage.purge_deleted(resource_name=R, parent_id=P) == 3
    assert listed(storage, include_deleted=True) == []


def test_get_many_returns_found_objects_only(storage):
    create(storage, "a")
    found = storage.get_many(keys=[(R, P, "a"), (R, P, "missing")])
    assert list(found) == [(R, P, "a")]


def test_returned_objects_are_copies(storage):
    created = create(storage, "a", title="x")
    created["title"] = "changed"
    assert storage.get(resource_name=R, parent_id=P, object_id="a")["title"] == "x"


@pytest.mark.parametrize("descending", [True, False])
def test_timestamp_windows_with_tombstones_and_pages(storage, descending):
    stamps = [create(storage, f"o{i}")["last_modified"] for i in range(10)]
    for i in (2, 5):
        storage.delete(resource_name=R, parent_id=P, object_id=f"o{i}")
    everything = storage.list_all(
        resource_name=R, parent_id=P, include_deleted=True, sorting=(Sort("last_modified", descending),)
    )
    low, high = stamps[3], everything[0 if descending else -1]["last_modified"] - 1
    filters = [Filter("last_modified", low, Operator.MIN), Filter("last_modified", high, Operator.MAX)]
    sorting = (Sort("last_modified", descending),)
    expected = [o["id"] for o in everything if low <= o["last_modified"] <= high]
    pages, after = [], None
    while True:
        page = storage.list_all(
            resource_name=R, parent_id=P, filters=filters, sorting=sorting, include_deleted=True, after=after, limit=3
        )
        if not page:
            break
        pages.extend(o["id"] for o in page)
        after = {"id": page[-1]["id"], "last_modified": page[-1]["last_modified"]}
    assert pages == expected
    assert "o2" in pages and "o5" not in pages  # tombstones: o5 is the newest change, past the window


def test_list_with_timestamp_returns_the_list_and_its_etag(storage):
    objects, empty_stamp = storage.list_with_timestamp(resource_name=R, parent_id=P)
    assert objects == [] and storage.resource_timestamp(resource_name=R, parent_id=P) == empty_stamp
    created = [create(storage, f"o{i}") for i in range(3)]
    tombstone = storage.delete(resource_name=R, parent_id=P, object_id="o0")
    objects, stamp = storage.list_with_timestamp(resource_name=R, parent_id=P, limit=1)
    assert [o["id"] for o in objects] == ["o2"]
    assert stamp == tombstone["last_modified"] > created[-1]["last_modified"] > empty_stamp


def test_a_rolled_back_request_leaves_nothing_and_keeps_the_order(storage):
    for object_id in ("a", "b", "c"):
        create(storage, object_id, v=1)
    before = storage.list_all(resource_name=R, parent_id=P, include_deleted=True)
    timestamp = storage.resource_timestamp(resource_name=R, parent_id=P)
    storage.client.start_request(readonly=False)
    storage.update(resource_name=R, parent_id=P, object_id="a", obj={"v": 2})
    storage.delete(resource_name=R, parent_id=P, object_id="b")
    create(storage, "d")
    storage.create(resource_name="collection", parent_id="/buckets/other", obj={"id": "x"})
    storage.delete_tree(parent_uri="/buckets/b")
    storage.client.finish_request(commit=False)
    assert storage.list_all(resource_name=R, parent_id=P, include_deleted=True) == before
    assert listed(storage, sorting=(Sort("last_modified", True),)) == ["c", "b", "a"]
    assert listed(storage, sorting=(Sort("last_modified", False),)) == ["a", "b", "c"]
    # Back where it was (PostgreSQL) or kept (memory, where a reader may have seen it): never lower.
    assert storage.resource_timestamp(resource_name=R, parent_id=P) >= timestamp
    assert create(storage, "e")["last_modified"] > max(o["last_modified"] for o in before)
    assert storage.list_all(resource_name="collection", parent_id="/buckets/other") == []


def test_a_rolled_back_sub_request_keeps_what_its_request_did(storage):
    storage.client.start_request(readonly=False)
    create(storage, "kept")
    storage.client.start_request(readonly=False)
    create(storage, "undone")
    storage.client.finish_request(commit=False)
    storage.client.finish_request(commit=True)
    assert listed(storage) == ["kept"]


def history(storage, *names, parent="/buckets/b", **fields):
    return [
        storage.create(resource_name="history", parent_id=parent, obj={"id": name, **fields})["id"] for name in names
    ]


def test_trim_waits_for_the_slack_then_keeps_the_newest(storage):
    trim = {"resource_name": "history", "parent_id": "/buckets/b", "equal": {"resource_name": "record"}}
    ids = history(storage, "e1", "e2", "e3", "e4", "e5", resource_name="record")
    history(storage, "elsewhere", parent="/buckets/x", resource_name="record")
    assert storage.trim_objects(**trim, keep=2, slack=3) == []
    ids += history(storage, "e6", resource_name="record")
    assert sorted(storage.trim_objects(**trim, keep=2, slack=3)) == ["e1", "e2", "e3", "e4"]
    left = storage.list_all(resource_name="history", parent_id="/buckets/b", include_deleted=True)
    assert [o["id"] for o in left] == ["e6", "e5"]  # Gone for good: no tombstones.
    assert storage.list_all(resource_name="history", parent_id="/buckets/x")  # Other buckets untouched.


def test_trim_counts_only_the_objects_with_every_given_value(storage):
    alice = history(storage, "a1", "a2", "a3", resource_name="record", user_id="alice")
    storage.create(
        resource_name="history", parent_id="/buckets/b", obj={"id": "bob", "resource_name": "record", "user_id": "bob"}
    )
    storage.create(
        resource_name="history", parent_id="/buckets/b", obj={"id": "grp", "resource_name": "group", "user_id": "alice"}
    )
    removed = storage.trim_objects(
        resource_name="history", parent_id="/buckets/b", equal={"resource_name": "record", "user_id": "alice"}, keep=1
    )
    assert sorted(removed) == sorted(alice[:2])
    left = {o["id"] for o in storage.list_all(resource_name="history", parent_id="/buckets/b")}
    assert left == {alice[2], "bob", "grp"}


def test_trim_refuses_names_that_are_not_identifiers(storage):
    with pytest.raises(ValueError):
        storage.trim_objects(resource_name="history", parent_id="/buckets/b", equal={"a'b": "x"}, keep=1)


def test_count_by_resource_counts_every_parent(storage):
    create(storage, "a")
    create(storage, "b")
    storage.delete(resource_name=R, parent_id=P, object_id="b")
    storage.create(resource_name=R, parent_id="/buckets/b/collections/other", obj={"id": "c"})
    storage.create(resource_name="bucket", parent_id="", obj={"id": "b"})
    storage.create(resource_name="group", parent_id="/buckets/b", obj={"id": "g"})
    counts = storage.count_by_resource(resource_names=["record", "bucket", "collection"])
    assert counts == {"record": (2, 1), "bucket": (1, 0)}
