"""Declared field indexes (``declare_index``, what ``kinto_server index``
calls): listed, idempotent, dropped, refused for what is no data field, and
never changing an answer (the same pages, in the same order, before and
after); on every backend."""

import pytest

from kinto_server.storage import Filter, Sort, UnindexableField

R, P = "record", "/buckets/b/collections/c"
VALUES = [3, 1.5, -2, "b", "a", "", None, True, False, [1], {"k": 1}, 3, "a"]


@pytest.fixture
def seeded(storage):
    objs = [{"id": f"r{i:02}", "n": value, "meta": {"rank": i % 4}} for i, value in enumerate(VALUES)]
    objs.append({"id": "missing"})
    storage.create_many(resource_name=R, parent_id=P, objs=objs)
    yield storage
    for resource_name, parent_id, field in storage.declared_indexes():
        storage.drop_index(resource_name=resource_name, parent_id=parent_id, field=field)


def walk(storage, sorting, filters=(), limit=3):
    """Every page of a sorted list, following the keyset as the API does."""
    ids, after = [], None
    while True:
        page = storage.list_all(
            resource_name=R, parent_id=P, filters=filters, sorting=sorting, after=after, limit=limit
        )
        ids += [obj["id"] for obj in page]
        if len(page) < limit:
            return ids
        after = page[-1]


@pytest.mark.parametrize("field", ["n", "meta.rank"])
def test_sorted_and_filtered_pages_are_the_same_with_the_index(seeded, field):
    queries = [
        ([Sort(field)], ()),
        ([Sort(field, descending=True)], ()),
        ([Sort(field), Sort("last_modified", descending=True)], ()),
        ([Sort("last_modified", descending=True)], [Filter(field, 3)]),
        ([Sort(field)], [Filter(field, "a")]),
    ]
    before = [walk(seeded, *query) for query in queries]
    seeded.declare_index(resource_name=R, parent_id=P, field=field)
    assert [walk(seeded, *query) for query in queries] == before
    assert len(before[0]) == len(VALUES) + 1


def test_declarations_are_listed_idempotent_and_dropped(seeded):
    for _ in range(2):
        seeded.declare_index(resource_name=R, parent_id=P, field="n")
    seeded.declare_index(resource_name=R, parent_id="/buckets/b/collections/other", field="n")
    assert seeded.declared_indexes() == [(R, P, "n"), (R, "/buckets/b/collections/other", "n")]
    seeded.drop_index(resource_name=R, parent_id=P, field="n")
    seeded.drop_index(resource_name=R, parent_id=P, field="n")  # already gone: nothing to do
    assert seeded.declared_indexes() == [(R, "/buckets/b/collections/other", "n")]
    assert walk(seeded, [Sort("n")])[0] == "r06"  # null first, as before


@pytest.mark.parametrize("field", ["id", "last_modified", "", "a..b", "nul\x00"])
def test_what_is_no_data_field_is_refused(storage, field):
    with pytest.raises(UnindexableField):
        storage.declare_index(resource_name=R, parent_id=P, field=field)
    assert storage.declared_indexes() == []
