"""Concurrent clients on one server (waitress threads), on every backend."""

import threading

import pytest
import requests

pytestmark = pytest.mark.integration


def test_concurrent_if_match_updates_are_never_lost(server_url):
    url = f"{server_url}/buckets/default/collections/counters/records/c"
    auth = ("alice", "secret")
    assert requests.put(url, json={"data": {"value": 0}}, auth=auth).status_code == 201
    accepted = []

    def increment_many():
        http = requests.Session()
        http.auth = auth
        for _ in range(15):
            while True:
                current = http.get(url)
                value = current.json()["data"]["value"]
                response = http.patch(
                    url, json={"data": {"value": value + 1}}, headers={"If-Match": current.headers["ETag"]}
                )
                assert response.status_code in (200, 412), response.text
                if response.status_code == 200:
                    accepted.append(1)
                    break

    threads = [threading.Thread(target=increment_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(accepted) == 60
    assert requests.get(url, auth=auth).json()["data"]["value"] == 60


def test_concurrent_creates_in_one_collection_all_succeed(server_url):
    url = f"{server_url}/buckets/default/collections/many/records"
    auth = ("alice", "secret")
    requests.get(url, auth=auth)
    statuses = []

    def create_many():
        http = requests.Session()
        http.auth = auth
        for i in range(25):
            statuses.append(http.post(url, json={"data": {"i": i}}).status_code)

    threads = [threading.Thread(target=create_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 100
    stamps = [r["last_modified"] for r in requests.get(url, auth=auth).json()["data"]]
    assert len(stamps) == len(set(stamps)) == 100
