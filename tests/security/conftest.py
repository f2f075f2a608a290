import pytest

from tests.support import ALICE

SETTINGS = {
    "kinto.includes": "kinto_server.plugins.default_bucket kinto_server.plugins.history kinto_server.plugins.accounts",
    "kinto.multiauth.policies": "account basicauth",
    "kinto.account_create_principals": "system.Everyone",
    "kinto.account_hash_rounds": "4",
    "kinto.experimental_permissions_endpoint": "true",
    "kinto.experimental_collection_schema_validation": "true",
}


@pytest.fixture
def app(make_app):
    """Alice's private bucket ``private`` and an open bucket ``shared`` where
    every authenticated user may create collections, groups and records."""
    app = make_app(**SETTINGS)
    app.put_json("/v1/buckets/private", {"data": {"secret": "bucket"}}, headers=ALICE)
    app.put_json("/v1/buckets/private/groups/admins", {"data": {"members": ["alice"]}}, headers=ALICE)
    app.put_json("/v1/buckets/private/collections/c", {"data": {"secret": "collection"}}, headers=ALICE)
    app.put_json("/v1/buckets/private/collections/c/records/sec0", {"data": {"secret": "record"}}, headers=ALICE)
    everyone_creates = ["system.Authenticated"]
    app.put_json(
        "/v1/buckets/shared",
        {"permissions": {"collection:create": everyone_creates, "group:create": everyone_creates}},
        headers=ALICE,
    )
    app.put_json(
        "/v1/buckets/shared/collections/inbox", {"permissions": {"record:create": everyone_creates}}, headers=ALICE
    )
    app.put_json("/v1/buckets/shared/collections/inbox/records/sec0", {"data": {"secret": "record"}}, headers=ALICE)
    app.put_json("/v1/buckets/shared/groups/staff", {"data": {"members": ["alice"]}}, headers=ALICE)
    return app
