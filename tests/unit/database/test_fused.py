from kinto_server.database.fused import fused_reader
from kinto_server.permission.memory import MemoryPermission
from kinto_server.permission.postgresql import PostgreSQLPermission
from kinto_server.storage.memory import MemoryStorage
from kinto_server.storage.postgresql import PostgreSQLStorage
from tests.backends import database_client


def test_no_fused_read_unless_both_backends_share_a_database():
    assert fused_reader(MemoryStorage(), MemoryPermission()) is None
    client = database_client()
    assert fused_reader(PostgreSQLStorage(client), MemoryPermission()) is None
    assert fused_reader(PostgreSQLStorage(client), PostgreSQLPermission(object())) is None


def test_fused_read_equals_the_separate_reads():
    client = database_client()
    storage, permission = PostgreSQLStorage(client), PostgreSQLPermission(client)
    storage.create(resource_name="bucket", parent_id="", obj={"id": "b"})
    storage.create(resource_name="collection", parent_id="/buckets/b", obj={"id": "c", "x": 1})
    permission.replace_object_permissions(object_uri="/buckets/b", permissions={"write": ["u"]})
    permission.add_user_principal(user_id="u", principal="/buckets/b/groups/g")
    keys = [("bucket", "", "b"), ("collection", "/buckets/b", "c"), ("record", "/buckets/b/collections/c", "r")]
    uris = ["/buckets/b", "/buckets/b/collections/c", "/buckets/b/collections/c/records/r"]
    read = fused_reader(storage, permission)
    for lock in (False, True):
        groups, acls, found = read(keys=keys, lock=lock, user_ids=["u"], object_uris=uris)
        assert groups == permission.get_user_principals(user_ids=["u"])
        assert acls == permission.get_objects_permissions(object_uris=uris)
        assert found == storage.get_many(keys=keys)
