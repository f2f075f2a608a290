"""A sort or an equality filter on a declared field of a big SQLite
collection walks its index (no sort, no scan of the collection): checked
on SQLite's query plans."""

import pytest

from kinto_server.storage import Sort
from kinto_server.storage.sqlite import SQLiteStorage
from tests.backends import BACKENDS, sqlite_client

PARENT = "/buckets/big/collections/c"
SIZE = 20_000


class RecordingClient:
    """Runs statements through the real client and keeps the last one."""

    def __init__(self, client):
        self.client, self.last = client, None

    def execute(self, sql, params=None):
        self.last = (sql, params)
        return self.client.execute(sql, params)

    def execute_cached(self, sql, params=None):
        self.last = (sql, params)
        return self.client.execute_cached(sql, params)

    def __getattr__(self, name):
        return getattr(self.client, name)


@pytest.fixture
def storage():
    if "sqlite" not in BACKENDS:
        pytest.skip("SQLite is not among KINTO_TEST_BACKENDS")
    client = sqlite_client()
    found = SQLiteStorage(client)
    found.create_many(
        resource_name="record",
        parent_id=PARENT,
        objs=({"id": f"r{n}", "n": n * 7919 % SIZE, "label": f"x{n % 7}"} for n in range(SIZE)),
    )
    client.execute("ANALYZE")
    yield found
    for resource_name, parent_id, field in found.declared_indexes():
        found.drop_index(resource_name=resource_name, parent_id=parent_id, field=field)


def plan(client, statement):
    sql, params = statement
    return [row[-1] for row in client.execute("EXPLAIN QUERY PLAN " + sql, params)]


@pytest.mark.parametrize("descending", [False, True], ids=["_sort=n", "_sort=-n"])
def test_a_sort_on_a_declared_field_walks_its_index(storage, descending):
    recorder = RecordingClient(storage.client)
    recording = SQLiteStorage.__new__(SQLiteStorage)
    recording.client = recorder
    sorting = (Sort("n", descending),)
    undeclared = plan(storage.client, _statement(recording, sorting))
    assert any("TEMP B-TREE FOR ORDER BY" in step for step in undeclared), undeclared
    storage.declare_index(resource_name="record", parent_id=PARENT, field="n")
    first = recording.list_all(resource_name="record", parent_id=PARENT, sorting=sorting, limit=101)
    steps = plan(storage.client, recorder.last)
    assert not any("TEMP B-TREE" in step for step in steps), steps
    assert any("USING INDEX field_" in step for step in steps), steps
    second = recording.list_all(resource_name="record", parent_id=PARENT, sorting=sorting, after=first[-1], limit=101)
    steps = plan(storage.client, recorder.last)
    assert not any("TEMP B-TREE" in step for step in steps), steps
    assert [o["n"] for o in first + second] == sorted(range(SIZE), reverse=descending)[:202]


@pytest.mark.parametrize(("field", "value"), [("n", 777), ("label", "x3")])
def test_an_equality_filter_on_a_declared_field_searches_its_index(storage, field, value):
    from kinto_server.storage import Filter

    recorder = RecordingClient(storage.client)
    recording = SQLiteStorage.__new__(SQLiteStorage)
    recording.client = recorder
    storage.declare_index(resource_name="record", parent_id=PARENT, field=field)
    recording._declarations = None
    found = recording.list_all(resource_name="record", parent_id=PARENT, filters=[Filter(field, value)], limit=101)
    expected = [n for n in range(SIZE) if (n * 7919 % SIZE if field == "n" else f"x{n % 7}") == value]
    assert len(found) == min(101, len(expected)) and all(o[field] == value for o in found)
    steps = plan(storage.client, recorder.last)
    assert any("USING INDEX field_" in step and "_eq" in step for step in steps), steps
    assert not any("TEMP B-TREE" in step for step in steps), steps


def _statement(recording, sorting):
    recording.list_all(resource_name="record", parent_id=PARENT, sorting=sorting, limit=101)
    return recording.client.last


def test_a_field_with_a_double_quote_cannot_be_indexed(storage):
    from kinto_server.storage import UnindexableField

    with pytest.raises(UnindexableField, match="double quote"):
        storage.declare_index(resource_name="record", parent_id=PARENT, field='a"b')
