"""The list queries of a 100,000-record collection read only what they return:
checked on PostgreSQL's own query plans (EXPLAIN ANALYZE)."""

import pytest

from kinto_server.storage import Filter, Operator
from kinto_server.storage.postgresql import PostgreSQLStorage
from tests.backends import BACKENDS, database_client

PARENT = "/buckets/big/collections/c"
SIZE = 100_000


class RecordingClient:
    """Runs statements through the real client and keeps the last one."""

    def __init__(self, client):
        self.client = client
        self.last = None

    def execute(self, sql, params=None):
        self.last = (sql, params)
        return self.client.execute(sql, params)


@pytest.fixture(scope="module")
def seeded():
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL is not among KINTO_TEST_BACKENDS")
    client = database_client()
    client.execute(
        """
        INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)
        SELECT %(parent)s, 'record', 'r' || n, n, n %% 50 = 0,
               CASE WHEN n %% 50 = 0 THEN '{"deleted": true}'::jsonb
                    ELSE jsonb_build_object('n', n, 'status', CASE WHEN n %% 3 = 0 THEN 'done' ELSE 'todo' END) END
        FROM generate_series(1, %(size)s) AS n
        """,
        {"parent": PARENT, "size": SIZE},
    )
    client.execute("INSERT INTO timestamps VALUES (%(parent)s, 'record', %(size)s)", {"parent": PARENT, "size": SIZE})
    client.execute("ANALYZE objects")
    yield client
    client.execute("TRUNCATE objects, timestamps, live_counts")


def plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


def explain(client, statement):
    sql, params = statement
    rows = client.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
    return list(plan_nodes(rows[0][0][0]["Plan"]))


def assert_reads_only_what_it_returns(nodes, limit):
    scans = [n for n in nodes if n.get("Relation Name") == "objects"]
    assert scans, nodes
    for scan in scans:
        assert scan["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan"), scan["Node Type"]
        assert scan["Actual Rows"] <= limit + 1
        assert scan.get("Rows Removed by Filter", 0) <= limit


def test_first_page_uses_the_timestamp_index(seeded):
    recorder = RecordingClient(seeded)
    objects = PostgreSQLStorage(recorder).list_all(resource_name="record", parent_id=PARENT, limit=101)
    assert objects[0]["last_modified"] == SIZE - 1  # SIZE itself is a tombstone
    assert_reads_only_what_it_returns(explain(seeded, recorder.last), 101)


def test_since_returning_ten_changes_uses_the_timestamp_index(seeded):
    recorder = RecordingClient(seeded)
    since = Filter("last_modified", SIZE - 10, Operator.GT)
    objects = PostgreSQLStorage(recorder).list_all(
        resource_name="record", parent_id=PARENT, filters=[since], include_deleted=True, limit=101
    )
    assert [o["last_modified"] for o in objects] == list(range(SIZE, SIZE - 10, -1))
    assert objects[0]["deleted"] is True
    assert_reads_only_what_it_returns(explain(seeded, recorder.last), 10)


def test_next_page_from_a_token_uses_the_timestamp_index(seeded):
    recorder = RecordingClient(seeded)
    after = {"id": "r50001", "last_modified": 50_001}
    objects = PostgreSQLStorage(recorder).list_all(resource_name="record", parent_id=PARENT, after=after, limit=101)
    assert objects[0]["last_modified"] == 49_999
    assert_reads_only_what_it_returns(explain(seeded, recorder.last), 101)


def test_keyset_sql_grows_linearly_with_the_sort_fields():
    from kinto_server.storage import Sort
    from kinto_server.storage.sql import order_and_keyset
    from kinto_server.storage.sql_common import Params

    def size(count):
        sorting = tuple(Sort(f"f{i}", i % 2 == 1) for i in range(count))
        after = {"id": "x", **{f"f{i}": i for i in range(count)}}
        return len(order_and_keyset(sorting, after, Params())[1])

    assert size(40) < 2.2 * size(20) < 4.4 * size(10)


@pytest.fixture
def indexed(seeded):
    storage = PostgreSQLStorage(seeded)
    for field in ("n", "status"):
        storage.declare_index(resource_name="record", parent_id=PARENT, field=field)
    yield seeded
    for field in ("n", "status"):
        storage.drop_index(resource_name="record", parent_id=PARENT, field=field)


@pytest.mark.parametrize("descending", [False, True], ids=["_sort=n", "_sort=-n"])
def test_a_sort_on_a_declared_field_reads_its_index_page_after_page(indexed, descending):
    from kinto_server.storage import Sort

    recorder = RecordingClient(indexed)
    storage = PostgreSQLStorage(recorder)
    sorting = (Sort("n", descending),)
    first = storage.list_all(resource_name="record", parent_id=PARENT, sorting=sorting, limit=101)
    assert_reads_only_what_it_returns(explain(indexed, recorder.last), 101)
    second = storage.list_all(resource_name="record", parent_id=PARENT, sorting=sorting, after=first[-1], limit=101)
    assert_reads_only_what_it_returns(explain(indexed, recorder.last), 101)
    live = [n for n in range(1, SIZE + 1) if n % 50]
    expected = sorted(live, reverse=descending)[:202]
    assert [o["n"] for o in first + second] == expected


@pytest.mark.parametrize(("field", "value", "count"), [("n", 777, 1), ("status", "done", 101)])
def test_an_equality_filter_on_a_declared_field_reads_only_what_it_returns(indexed, field, value, count):
    recorder = RecordingClient(indexed)
    objects = PostgreSQLStorage(recorder).list_all(
        resource_name="record", parent_id=PARENT, filters=[Filter(field, value)], limit=101
    )
    assert len(objects) == count and all(o[field] == value for o in objects)
    nodes = explain(indexed, recorder.last)
    assert_reads_only_what_it_returns(nodes, count)
    if count == 1:  # a rare value: its index (a common one may as well be read in timestamp order)
        assert any(node.get("Index Name", "").endswith("_eq") for node in nodes), nodes


def test_without_the_declaration_the_same_sort_reads_the_whole_collection(seeded):
    from kinto_server.storage import Sort

    recorder = RecordingClient(seeded)
    PostgreSQLStorage(recorder).list_all(resource_name="record", parent_id=PARENT, sorting=(Sort("n"),), limit=101)
    scans = [n for n in explain(seeded, recorder.last) if n.get("Relation Name") == "objects"]
    assert sum(scan["Actual Rows"] * scan["Actual Loops"] for scan in scans) > SIZE / 2  # what indexes are for
