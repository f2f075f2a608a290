"""kinto-http over real HTTP: batches, permissions, accounts and history."""

import pytest
import requests
from kinto_http import Client, KintoException

pytestmark = pytest.mark.integration


def test_client_batch_runs_in_one_request(full_server_url):
    client = Client(server_url=full_server_url, auth=("alice", "secret"))
    client.create_bucket(id="app")
    with client.batch(bucket="app", collection="tasks") as batch:
        batch.create_collection(id="tasks")
        for i in range(30):
            batch.create_record(data={"i": i})
    results = batch.results()
    assert len(results) == 31
    records = client.get_records(bucket="app", collection="tasks")
    assert sorted(r["i"] for r in records) == list(range(30))


def test_client_reads_permissions_and_history(full_server_url):
    client = Client(server_url=full_server_url, auth=("alice", "secret"), bucket="shared", collection="c")
    client.create_bucket(id="shared")
    client.create_collection(id="c", permissions={"read": ["system.Authenticated"]})
    client.create_record(id="r", data={"v": 1})
    client.patch_record(id="r", data={"v": 2})
    uris = {p["uri"] for p in client.get_permissions()}
    assert {"/buckets/shared", "/buckets/shared/collections/c", "/buckets/shared/collections/c/records/r"} <= uris
    history = client.get_history()
    assert [(h["action"], h["resource_name"]) for h in history][:2] == [("update", "record"), ("create", "record")]
    bob = Client(server_url=full_server_url, auth=("bob", "secret"))
    assert [p["uri"] for p in bob.get_permissions(exclude_resource_names=["root"])] == ["/buckets/shared/collections/c"]
    client.purge_history()
    assert client.get_history() == []


def test_accounts_created_over_http_authenticate_the_client(full_server_url):
    response = requests.put(f"{full_server_url}/accounts/carol", json={"data": {"password": "pw"}})
    assert response.status_code == 201 and "password" not in response.json()["data"]
    carol = Client(server_url=full_server_url, auth=("carol", "pw"))
    assert carol.server_info()["user"]["id"] == "account:carol"
    carol.create_bucket(id="carols")
    assert carol.get_bucket(id="carols")["permissions"]["write"] == ["account:carol"]
    stranger = Client(server_url=full_server_url, auth=("carol", "wrong"))
    with pytest.raises(KintoException):
        stranger.get_bucket(id="carols")
