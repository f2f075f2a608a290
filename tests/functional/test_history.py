import pytest

from tests.support import ALICE, BOB, assert_error, user_id

SETTINGS = {"kinto.includes": "kinto_server.plugins.default_bucket kinto_server.plugins.history"}
HISTORY = "/v1/buckets/b/history"


@pytest.fixture
def app(make_app):
    app = make_app(**SETTINGS)
    app.put("/v1/buckets/b", headers=ALICE)
    app.put("/v1/buckets/b/collections/c", headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c/records/r", {"data": {"a": 1}}, headers=ALICE)
    app.patch_json("/v1/buckets/b/collections/c/records/r", {"data": {"a": 2}}, headers=ALICE)
    app.delete("/v1/buckets/b/collections/c/records/r", headers=ALICE)
    return app


def test_every_change_in_the_bucket_is_recorded_newest_first(app):
    entries = app.get(HISTORY, headers=ALICE).json["data"]
    assert [(e["action"], e["resource_name"]) for e in entries] == [
        ("delete", "record"),
        ("update", "record"),
        ("create", "record"),
        ("create", "collection"),
        ("create", "bucket"),
    ]
    update = entries[1]
    assert update["uri"] == "/buckets/b/collections/c/records/r"
    assert update["collection_id"] == "c" and update["record_id"] == "r"
    assert update["user_id"] == user_id("alice")
    assert update["target"]["data"]["a"] == 2
    assert update["target"]["permissions"] == {"write": [user_id("alice")]}
    assert update["date"].endswith("+00:00")
    assert entries[0]["target"]["data"]["deleted"] is True


def test_history_is_filterable_and_paginated(app):
    data = app.get(f"{HISTORY}?resource_name=record&action=update", headers=ALICE).json["data"]
    assert len(data) == 1
    response = app.get(f"{HISTORY}?_limit=2", headers=ALICE)
    assert len(response.json["data"]) == 2 and "Next-Page" in response.headers
    assert app.head(HISTORY, headers=ALICE).headers["Total-Records"] == "5"


def test_history_is_readable_by_bucket_readers_only(app):
    assert_error(app.get(HISTORY, headers=BOB, status=403), 403, 121)
    app.patch_json("/v1/buckets/b", {"permissions": {"read": [user_id("bob")]}}, headers=ALICE)
    assert len(app.get(HISTORY, headers=BOB).json["data"]) == 6


def test_users_see_entries_of_objects_shared_with_them(app):
    app.put_json(
        "/v1/buckets/b/collections/c/records/shared",
        {"data": {}, "permissions": {"read": [user_id("bob")]}},
        headers=ALICE,
    )
    entries = app.get(HISTORY, headers=BOB).json["data"]
    assert [e["uri"] for e in entries] == ["/buckets/b/collections/c/records/shared"]


def test_failed_changes_are_not_recorded(app):
    app.put_json(
        "/v1/buckets/b/collections/c/records/x", {"data": {}}, headers={**ALICE, "If-Match": '"1"'}, status=412
    )
    assert len(app.get(HISTORY, headers=ALICE).json["data"]) == 5


def test_deleting_the_bucket_deletes_its_history(app):
    app.delete("/v1/buckets/b", headers=ALICE)
    app.put("/v1/buckets/b", headers=ALICE)
    assert [e["action"] for e in app.get(HISTORY, headers=ALICE).json["data"]] == ["create"]


def test_bucket_writers_can_purge_history(app):
    app.delete(HISTORY, headers=ALICE, status=200)
    assert app.get(HISTORY, headers=ALICE).json["data"] == []


def test_a_purged_history_leaves_tombstones_for_its_since_feed(app):
    before = app.get(HISTORY, headers=ALICE)
    ids = sorted(e["id"] for e in before.json["data"])
    purged = app.delete(HISTORY, headers=ALICE)
    assert sorted(e["id"] for e in purged.json["data"]) == ids
    since = before.headers["ETag"].strip('"')
    feed = app.get(f"{HISTORY}?_since={since}", headers=ALICE).json["data"]
    assert sorted(e["id"] for e in feed) == ids
    assert all(e["deleted"] for e in feed)


def test_batch_changes_are_recorded(app):
    body = {
        "defaults": {"method": "PUT"},
        "requests": [{"path": "/buckets/b/groups/g1"}, {"path": "/buckets/b/groups/g2"}],
    }
    app.post_json("/v1/batch", body, headers=ALICE)
    data = app.get(f"{HISTORY}?resource_name=group", headers=ALICE).json["data"]
    assert sorted(e["group_id"] for e in data) == ["g1", "g2"]


def test_history_capability(app):
    assert "history" in app.get("/v1/").json["capabilities"]
