"""SQLite's one-statement lineage read: only when both backends share one
file, and the same answers as the separate reads."""

from kinto_server.combined import Separate, combined
from kinto_server.combined.sqlite import SQLiteCombined
from kinto_server.database.sqlite import SQLiteClient
from kinto_server.permission.memory import MemoryPermission
from kinto_server.permission.sqlite import SQLitePermission
from kinto_server.storage.sqlite import SQLiteStorage
from tests.backends import sqlite_client


def test_the_one_statement_read_serves_only_backends_sharing_a_file(tmp_path):
    client = sqlite_client()
    assert isinstance(combined(SQLiteStorage(client), SQLitePermission(client)), SQLiteCombined)
    assert isinstance(combined(SQLiteStorage(client), MemoryPermission()), Separate)
    other = SQLiteClient(tmp_path / "other.sqlite")
    assert not isinstance(combined(SQLiteStorage(client), SQLitePermission(other)), SQLiteCombined)


def test_the_one_statement_read_equals_the_separate_reads():
    client = sqlite_client()
    storage, permission = SQLiteStorage(client), SQLitePermission(client)
    storage.create(resource_name="bucket", parent_id="", obj={"id": "b"})
    storage.create(resource_name="collection", parent_id="/buckets/b", obj={"id": "c", "x": 1})
    storage.create(resource_name="collection", parent_id="/buckets/b", obj={"id": "gone"})
    storage.delete(resource_name="collection", parent_id="/buckets/b", object_id="gone")
    permission.replace_object_permissions(object_uri="/buckets/b", permissions={"write": ["u"], "read": ["v"]})
    permission.add_user_principal(user_id="u", principal="/buckets/b/groups/g")
    keys = [("bucket", "", "b"), ("collection", "/buckets/b", "c"), ("collection", "/buckets/b", "gone")]
    uris = ["/buckets/b", "/buckets/b/collections/c", "/buckets/b/collections/gone"]
    fused, separate = SQLiteCombined(storage, permission), Separate(storage, permission)
    for keys_read, uris_read, users in ((keys, uris, ["u", "x"]), ([], [], []), (keys[:1], uris[:1], [])):
        arguments = {"keys": keys_read, "lock": True, "user_ids": users, "object_uris": uris_read}
        assert fused.read_lineage(**arguments) == separate.read_lineage(**arguments)


def test_the_one_statement_read_searches_every_table_by_key():
    client = sqlite_client()
    keys = [("bucket", "", "b"), ("collection", "/buckets/b", "c")]
    sql, params = SQLiteCombined.statement(keys, ["u", "v"], ["/buckets/b", "/buckets/b/collections/c"])
    plan = " / ".join(row[3] for row in client.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "SCAN" not in plan, plan
    assert plan.count("SEARCH") >= 4, plan
