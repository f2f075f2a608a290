"""The kinto-http client library drives the server over real HTTP."""

import pytest
from kinto_http import Client, KintoException

pytestmark = pytest.mark.integration


def test_client_creates_lists_and_syncs_records(server_url):
    client = Client(server_url=server_url, auth=("alice", "secret"))
    client.create_bucket(id="app")
    client.create_collection(id="tasks", bucket="app")
    created = [
        client.create_record(data={"title": f"task {i}", "done": False}, bucket="app", collection="tasks")["data"]
        for i in range(5)
    ]
    records = client.get_records(bucket="app", collection="tasks")
    assert sorted(r["id"] for r in records) == sorted(r["id"] for r in created)

    paginated = client.get_records(bucket="app", collection="tasks", _limit=2, pages=float("inf"))
    assert len(paginated) == 5

    timestamp = client.get_records_timestamp(bucket="app", collection="tasks")
    first = created[0]
    updated = client.patch_record(
        id=first["id"], data={"done": True}, bucket="app", collection="tasks", if_match=first["last_modified"]
    )["data"]
    assert updated["done"] is True

    with pytest.raises(KintoException) as stale:
        client.patch_record(
            id=first["id"], data={"done": False}, bucket="app", collection="tasks", if_match=first["last_modified"]
        )
    assert stale.value.response.status_code == 412

    client.delete_record(id=created[1]["id"], bucket="app", collection="tasks")
    changes = client.get_records(bucket="app", collection="tasks", _since=timestamp)
    assert {(c["id"], c.get("deleted", False)) for c in changes} == {(first["id"], False), (created[1]["id"], True)}


def test_client_uses_default_bucket_and_safe_creates(server_url):
    client = Client(server_url=server_url, auth=("bob", "secret"), bucket="default", collection="notes")
    record = client.create_record(id="n1", data={"text": "hello"})["data"]
    assert client.get_record(id="n1")["data"]["text"] == "hello"
    with pytest.raises(KintoException):
        client.create_record(id="n1", data={"text": "again"})  # safe: If-None-Match: *
    server_info = client.server_info()
    assert server_info["user"]["bucket"] == client.get_bucket(id="default")["data"]["id"]
    assert record["id"] == "n1"


def test_client_shares_records_between_users(server_url):
    alice = Client(server_url=server_url, auth=("alice", "secret"))
    bob = Client(server_url=server_url, auth=("bob", "secret"))
    bob_id = bob.server_info()["user"]["id"]
    alice.create_bucket(id="shared")
    alice.create_collection(id="c", bucket="shared", permissions={"record:create": ["system.Authenticated"]})
    alice.create_record(id="visible", data={"x": 1}, bucket="shared", collection="c", permissions={"read": [bob_id]})
    alice.create_record(id="hidden", data={"x": 2}, bucket="shared", collection="c")
    assert [r["id"] for r in bob.get_records(bucket="shared", collection="c")] == ["visible"]
