"""The combined reads and writes: PostgreSQL's single round trips only when
both backends share one database, and the same answers as the generic ones."""

from kinto_server.combined import Separate, combined
from kinto_server.combined.postgresql import PostgreSQLCombined
from kinto_server.permission.memory import MemoryPermission
from kinto_server.permission.postgresql import PostgreSQLPermission
from kinto_server.storage.memory import MemoryStorage
from kinto_server.storage.postgresql import PostgreSQLStorage
from tests.backends import database_client


def test_the_generic_combination_serves_unless_both_backends_share_a_database():
    assert isinstance(combined(MemoryStorage(), MemoryPermission()), Separate)
    client = database_client()
    assert isinstance(combined(PostgreSQLStorage(client), MemoryPermission()), Separate)
    assert isinstance(combined(PostgreSQLStorage(client), PostgreSQLPermission(object())), Separate)
    assert isinstance(combined(PostgreSQLStorage(client), PostgreSQLPermission(client)), PostgreSQLCombined)


def test_the_single_round_trip_read_equals_the_separate_reads():
    client = database_client()
    storage, permission = PostgreSQLStorage(client), PostgreSQLPermission(client)
    storage.create(resource_name="bucket", parent_id="", obj={"id": "b"})
    storage.create(resource_name="collection", parent_id="/buckets/b", obj={"id": "c", "x": 1})
    permission.replace_object_permissions(object_uri="/buckets/b", permissions={"write": ["u"]})
    permission.add_user_principal(user_id="u", principal="/buckets/b/groups/g")
    keys = [("bucket", "", "b"), ("collection", "/buckets/b", "c"), ("record", "/buckets/b/collections/c", "r")]
    uris = ["/buckets/b", "/buckets/b/collections/c", "/buckets/b/collections/c/records/r"]
    fused, separate = PostgreSQLCombined(storage, permission), Separate(storage, permission)
    for lock in (False, True):
        for keys_read, uris_read in ((keys, uris), ([], [])):
            arguments = {"keys": keys_read, "lock": lock, "user_ids": ["u"], "object_uris": uris_read}
            assert fused.read_lineage(**arguments) == separate.read_lineage(**arguments)
