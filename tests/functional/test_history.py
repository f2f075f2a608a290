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


RECORDS = "/v1/buckets/b/collections/c/records"


def kinds(app, query=""):
    return [(e["resource_name"], e["action"]) for e in app.get(HISTORY + query, headers=ALICE).json["data"]]


def test_excluded_users_and_uris_leave_no_entry(make_app):
    app = make_app(
        **SETTINGS,
        **{
            "kinto.history.exclude_user_ids": user_id("bob"),
            "kinto.history.exclude_resources": "/buckets/quiet /buckets/b/collections/secret /buckets/b/groups/g",
        },
    )
    app.put_json("/v1/buckets/b", {"permissions": {"write": [user_id("bob")]}}, headers=ALICE)
    app.put("/v1/buckets/b/collections/c", headers=BOB)
    app.put("/v1/buckets/b/collections/secret", headers=ALICE)
    app.put_json("/v1/buckets/b/collections/secret/records/r", {"data": {}}, headers=ALICE)
    app.put("/v1/buckets/b/groups/g", headers=ALICE)
    app.put("/v1/buckets/b/groups/other", headers=ALICE)
    app.put("/v1/buckets/quiet", headers=ALICE)
    assert [e["uri"] for e in app.get(HISTORY, headers=ALICE).json["data"]] == ["/buckets/b/groups/other", "/buckets/b"]
    assert app.get("/v1/buckets/quiet/history", headers=ALICE).json["data"] == []
    capability = app.get("/v1/").json["capabilities"]["history"]
    assert capability["excluded_resources"] == [
        {"bucket": "quiet"},
        {"bucket": "b", "collection": "secret"},
        {"bucket": "b", "group": "g"},
    ]


def test_an_excluded_resource_that_is_no_uri_stops_the_start(make_app):
    from kinto_server.settings import ConfigurationError

    with pytest.raises(ConfigurationError, match="history.exclude_resources: 'quiet'"):
        make_app(**SETTINGS, **{"kinto.history.exclude_resources": "quiet"})


def trimming_app(make_app, **settings):
    app = make_app(
        **SETTINGS, **{"kinto.history.auto_trim_max_count": "3", "kinto.history.auto_trim_threshold": "2", **settings}
    )
    app.put("/v1/buckets/b", headers=ALICE)
    app.put("/v1/buckets/b/collections/c", headers=ALICE)
    return app


def test_trim_keeps_the_newest_entries_of_each_resource_name_past_the_threshold(make_app):
    app = trimming_app(make_app)
    for i in range(5):
        app.put_json(f"{RECORDS}/r{i}", {"data": {}}, headers=ALICE)
    assert len(kinds(app, "?resource_name=record")) == 5  # 3 kept + 2 of threshold.
    app.put_json(f"{RECORDS}/r5", {"data": {}}, headers=ALICE)
    records = app.get(f"{HISTORY}?resource_name=record", headers=ALICE).json["data"]
    assert [e["record_id"] for e in records] == ["r5", "r4", "r3"]
    assert kinds(app, "?resource_name=collection") == [("collection", "create")]  # Counted apart.
    # Gone for good: no tombstone in the feed, and nobody holds a permission on them.
    assert len(app.get(f"{HISTORY}?_since=0", headers=ALICE).json["data"]) == 5
    assert app.get("/v1/").json["capabilities"]["history"]["auto_trim_max_count"] == 3


def test_trim_by_user_trims_only_those_users_entries(make_app):
    app = trimming_app(make_app, **{"kinto.history.auto_trim_user_ids": user_id("alice")})
    app.patch_json("/v1/buckets/b", {"permissions": {"write": [user_id("bob")]}}, headers=ALICE)
    for i in range(7):
        app.put_json(f"{RECORDS}/a{i}", {"data": {}}, headers=ALICE)
        app.put_json(f"{RECORDS}/b{i}", {"data": {}}, headers=BOB)
    entries = app.get(f"{HISTORY}?resource_name=record", headers=ALICE).json["data"]
    alices = [e["record_id"] for e in entries if e["user_id"] == user_id("alice")]
    assert alices == ["a6", "a5", "a4", "a3"]  # Trimmed to 3 at the 6th, then one more.
    assert [e["record_id"] for e in entries if e["user_id"] == user_id("bob")] == [f"b{i}" for i in range(6, -1, -1)]
    assert app.get("/v1/").json["capabilities"]["history"]["auto_trim_user_ids"] == [user_id("alice")]


def test_trim_removes_the_trimmed_entries_permissions(make_app):
    app = trimming_app(make_app)
    app.put_json("/v1/buckets/b/collections/c", {"permissions": {"read": [user_id("bob")]}}, headers=ALICE)
    for i in range(6):
        app.put_json(f"{RECORDS}/r{i}", {"data": {}}, headers=ALICE)
    entries = app.get(HISTORY, headers=BOB).json["data"]
    assert [e.get("record_id") for e in entries] == ["r5", "r4", "r3", None]  # And the collection's update.
    held = app.app.registry.permission.get_accessible_objects(
        principals=[user_id("bob")], permissions=["read"], uri_prefix="/buckets/b/history/"
    )
    assert sorted(held) == sorted(f"/buckets/b/history/{e['id']}" for e in entries)


def stamp(response):
    return response.json["data"]["last_modified"]


def test_a_snapshot_rebuilds_the_records_as_they_were(app):
    # The fixture wrote r, changed it, then deleted it.
    versions = {e["action"]: e["target"]["data"] for e in app.get(f"{HISTORY}?record_id=r", headers=ALICE).json["data"]}
    created, updated = versions["create"], versions["update"]
    later = app.put_json(f"{RECORDS}/s", {"data": {"b": 1}}, headers=ALICE)
    app.patch_json(f"{RECORDS}/s", {"data": {"b": 2}}, headers=ALICE)
    snapshot = "/v1/buckets/b/snapshot/collections/c@{}"
    assert app.get(snapshot.format(created["last_modified"]), headers=ALICE).json == {"data": [created]}
    assert app.get(snapshot.format(updated["last_modified"]), headers=ALICE).json == {"data": [updated]}
    assert app.get(snapshot.format(stamp(later)), headers=ALICE).json == {"data": [later.json["data"]]}
    now = app.get(RECORDS, headers=ALICE).json["data"]
    assert app.get(snapshot.format(2**53), headers=ALICE).json == {"data": now}
    assert app.get(snapshot.format(0), headers=ALICE).json == {"data": []}


def test_a_record_deleted_then_created_again_is_absent_between(app):
    deleted_at = app.get(f"{HISTORY}?record_id=r&action=delete", headers=ALICE).json["data"][0]["target"]["data"]
    app.put_json(f"{RECORDS}/r", {"data": {"a": 3}}, headers=ALICE)
    at = deleted_at["last_modified"]
    assert app.get(f"/v1/buckets/b/snapshot/collections/c@{at}", headers=ALICE).json == {"data": []}


def test_snapshots_need_read_on_the_bucket_or_the_collection(app):
    url = "/v1/buckets/b/snapshot/collections/c@0"
    assert_error(app.get(url, status=401), 401, 104)
    assert_error(app.get(url, headers=BOB, status=403), 403, 121)
    app.patch_json("/v1/buckets/b/collections/c", {"permissions": {"read": [user_id("bob")]}}, headers=ALICE)
    assert app.get(url, headers=BOB).json == {"data": []}
    # A missing collection of a readable bucket is empty; a missing bucket is nobody's.
    assert app.get("/v1/buckets/b/snapshot/collections/nope@0", headers=ALICE).json == {"data": []}
    assert_error(app.get("/v1/buckets/nope/snapshot/collections/c@0", headers=ALICE, status=403), 403, 121)


@pytest.mark.parametrize("timestamp", ["abc", "-1", "1.5", "1e3"])
def test_a_snapshot_timestamp_must_be_a_whole_number(app, timestamp):
    response = app.get(f"/v1/buckets/b/snapshot/collections/c@{timestamp}", headers=ALICE, status=400)
    assert_error(response, 400, 107)
    assert response.json["details"] == [
        {"location": "path", "name": "timestamp", "description": f"Invalid timestamp {timestamp!r}"}
    ]


def test_snapshots_are_read_only_and_uncached(app):
    url = "/v1/buckets/b/snapshot/collections/c@0"
    assert_error(app.post(url, headers=ALICE, status=405), 405, 115)
    response = app.head(url, headers=ALICE)
    assert response.status_code == 200 and "ETag" not in response.headers


def test_a_snapshot_of_an_invalid_id_is_not_found(app):
    response = app.get("/v1/buckets/b/snapshot/collections/a%20b@0", headers=ALICE, status=404)
    assert_error(response, 404, 111)
    assert response.json["details"] == {"id": "a b", "resource_name": "collection"}
