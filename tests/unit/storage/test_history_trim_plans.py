"""The history's trim reads only the entries it keeps, however long the
history: checked on each SQL backend's own query plan, in a bucket of
50,000 entries of which the trim concerns 30."""

import pytest

from kinto_server.storage.postgresql import PostgreSQLStorage
from kinto_server.storage.sql_common import trim_sql
from kinto_server.storage.sqlite import SQLiteStorage
from kinto_server.storage.sqlite_sql import Params
from tests.backends import BACKENDS, database_client, sqlite_client
from tests.unit.storage.test_postgresql_plans import RecordingClient, explain

BACKGROUND, MATCHING, KEEP, SLACK = 50_000, 30, 10, 5
BUCKET = "/buckets/big"

# Entries 1..BACKGROUND are groups changed by others; the newest MATCHING
# ones are alice's records.
SEED = """
INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)
SELECT '/buckets/big', 'history', 'h' || n, n, {false},
       {object}('resource_name', CASE WHEN n > {background} THEN 'record' ELSE 'group' END,
                'user_id', CASE WHEN n > {background} THEN 'alice' ELSE 'other' END)
FROM {numbers}
"""
TOTAL = BACKGROUND + MATCHING


@pytest.mark.parametrize("equal", [{"resource_name": "record"}, {"resource_name": "record", "user_id": "alice"}])
def test_the_postgresql_trim_walks_its_index(equal):
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL is not among KINTO_TEST_BACKENDS")
    client = database_client()
    numbers = f"generate_series(1, {TOTAL}) AS n"
    client.execute(SEED.format(false="FALSE", object="jsonb_build_object", background=BACKGROUND, numbers=numbers))
    client.execute("ANALYZE objects")
    recorder = RecordingClient(client)
    storage = PostgreSQLStorage(recorder)
    removed = storage.trim_objects(resource_name="history", parent_id=BUCKET, equal=equal, keep=KEEP, slack=SLACK)
    assert len(removed) == MATCHING - KEEP
    # Once more, on a history now at the kept size: the steady state.
    storage.trim_objects(resource_name="history", parent_id=BUCKET, equal=equal, keep=KEEP, slack=SLACK)
    nodes = explain(client, recorder.last)
    scans = [n for n in nodes if n.get("Relation Name") == "objects" and n["Node Type"] != "ModifyTable"]
    assert scans
    for scan in scans:
        assert scan["Node Type"] in ("Index Scan", "Index Only Scan"), scan
        assert scan["Index Name"].startswith("idx_history_by_resource"), scan
        assert scan.get("Actual Rows", 0) <= KEEP + SLACK + 1
        assert scan.get("Rows Removed by Filter", 0) == 0


@pytest.mark.parametrize("equal", [{"resource_name": "record"}, {"resource_name": "record", "user_id": "alice"}])
def test_the_sqlite_trim_walks_its_index(equal):
    if "sqlite" not in BACKENDS:
        pytest.skip("SQLite is not among KINTO_TEST_BACKENDS")
    client = sqlite_client()
    numbers = f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {TOTAL}) SELECT n FROM s)"
    client.execute(SEED.format(false="0", object="json_object", background=BACKGROUND, numbers=numbers))
    storage = SQLiteStorage(client)
    removed = storage.trim_objects(resource_name="history", parent_id=BUCKET, equal=equal, keep=KEEP, slack=SLACK)
    assert len(removed) == MATCHING - KEEP
    params = Params()
    sql = trim_sql(
        resource_name="history",
        parent_id=BUCKET,
        equal=equal,
        keep=KEEP,
        slack=SLACK,
        params=params,
        field_text=storage.trim_field_text,
        table=storage.trim_table("history", equal),
    )
    plan = [row[-1] for row in client.execute("EXPLAIN QUERY PLAN " + sql, params)]
    searches = [step for step in plan if "objects" in step]
    assert len(searches) == 3, plan
    assert all("USING INDEX idx_history_by_resource" in step for step in searches), plan
