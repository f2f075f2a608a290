"""The changes overview (kinto-changes): monitor/changes lists the watched
collections the caller may read with their records timestamps, as a list
with filters, _since, ETag and 304; the changeset endpoint gives one
collection's metadata and changes in one answer."""

import hashlib
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import ALICE, BOB, assert_error, create_bucket, create_collection, create_record, user_id

MONITOR = "/v1/buckets/monitor/collections/changes/records"
PUBLIC = {"read": ["system.Everyone"]}


@pytest.fixture
def make_changes_app(make_app):
    def make(**overrides):
        settings = {
            "kinto.includes": "kinto_server.plugins.default_bucket kinto_changes",
            "kinto.changes.resources": "/buckets/main /buckets/private/collections/secret",
            "kinto.http_host": "kinto.example.com",
            **overrides,
        }
        return make_app(**settings)

    return make


@pytest.fixture
def app(make_changes_app):
    app = make_changes_app()
    create_bucket(app, "main", permissions=PUBLIC)
    for cid in ("cfr", "certificates"):
        create_collection(app, "main", cid)
    create_bucket(app, "private")
    create_collection(app, "private", "secret")
    create_bucket(app, "other", permissions=PUBLIC)
    create_collection(app, "other", "unwatched")
    return app


def records_timestamp(app, bid, cid, headers=ALICE):
    return int(app.head(f"/v1/buckets/{bid}/collections/{cid}/records", headers=headers).headers["ETag"].strip('"'))


def test_the_overview_lists_each_watched_collection_with_its_records_timestamp(app):
    create_record(app, {"n": 1}, "main", "cfr")
    entries = app.get(MONITOR, headers=ALICE).json["data"]
    by_collection = {(e["bucket"], e["collection"]): e for e in entries}
    assert set(by_collection) == {("main", "cfr"), ("main", "certificates"), ("private", "secret")}
    cfr = by_collection[("main", "cfr")]
    assert cfr["last_modified"] == records_timestamp(app, "main", "cfr")
    assert cfr["host"] == "kinto.example.com"
    # kinto-changes' ids: the MD5 of host + collection URI, as a UUID.
    expected_id = uuid.UUID(hashlib.md5(b"kinto.example.com/buckets/main/collections/cfr").hexdigest())
    assert cfr["id"] == str(expected_id)
    assert set(cfr) == {"id", "last_modified", "bucket", "collection", "host"}


def test_a_caller_sees_only_the_collections_it_may_read(app):
    anonymous = app.get(MONITOR).json["data"]
    assert sorted(e["collection"] for e in anonymous) == ["certificates", "cfr"]
    app.patch_json("/v1/buckets/private/collections/secret", {"permissions": {"read": [user_id("bob")]}}, headers=ALICE)
    assert sorted(e["collection"] for e in app.get(MONITOR, headers=BOB).json["data"]) == [
        "certificates",
        "cfr",
        "secret",
    ]


def test_the_overview_is_a_list_with_since_filters_etag_and_304(app):
    create_record(app, {"n": 1}, "main", "certificates")
    before = app.get(MONITOR, headers=ALICE)
    etag = before.headers["ETag"]
    assert int(etag.strip('"')) == max(e["last_modified"] for e in before.json["data"])
    app.get(MONITOR, headers={**ALICE, "If-None-Match": etag}, status=304)
    create_record(app, {"n": 2}, "main", "cfr")
    changed = app.get(f"{MONITOR}?_since={etag}", headers=ALICE).json["data"]
    assert [e["collection"] for e in changed] == ["cfr"]
    sorted_by_name = app.get(f"{MONITOR}?bucket=main&_sort=collection", headers=ALICE).json["data"]
    assert [e["collection"] for e in sorted_by_name] == ["certificates", "cfr"]
    assert app.head(MONITOR, headers=ALICE).headers["Total-Records"] == "3"


def test_only_get_and_head_are_allowed_on_the_overview(app):
    assert_error(app.post_json(MONITOR, {"data": {}}, headers=ALICE, status=405), 405, 115)
    assert_error(app.delete(MONITOR, headers=ALICE, status=405), 405, 115)


def test_a_too_old_since_is_redirected_to_the_whole_list(make_changes_app):
    app = make_changes_app(**{"kinto.changes.since_max_age_days": "2", "kinto.changes.http_host": "cdn-host"})
    old = int((datetime.now(timezone.utc) - timedelta(days=3)).timestamp() * 1000)
    response = app.get(f'{MONITOR}?_since="{old}"&_expected=5', status=307)
    assert response.headers["Location"] == "https://cdn-host/v1/buckets/monitor/collections/changes/records?_expected=5"
    assert "max-age=86400" in response.headers["Cache-Control"]
    recent = int((datetime.now(timezone.utc) - timedelta(days=1)).timestamp() * 1000)
    app.get(f"{MONITOR}?_since={recent}", status=200)
    never = make_changes_app(**{"kinto.changes.since_max_age_days": "-1"})
    never.get(f"{MONITOR}?_since=42", status=200)


def test_cache_headers_follow_the_monitor_settings(make_changes_app):
    app = make_changes_app(
        **{
            "kinto.monitor.changes.record_cache_expires_seconds": "60",
            "kinto.monitor.changes.record_cache_maximum_expires_seconds": "3600",
        }
    )
    assert "max-age=60" in app.get(MONITOR).headers["Cache-Control"]
    assert "max-age=3600" in app.get(f"{MONITOR}?_expected=12").headers["Cache-Control"]
    plain = make_changes_app()
    assert plain.get(MONITOR).headers["Cache-Control"] == "no-cache, no-store"


def test_the_changeset_gives_metadata_timestamp_and_changes_newest_first(app):
    first = create_record(app, {"n": 1}, "main", "cfr")
    second = create_record(app, {"n": 2}, "main", "cfr")
    url = "/v1/buckets/main/collections/cfr/changeset?_expected=1"
    body = app.get(url).json
    assert body["metadata"]["id"] == "cfr"
    assert body["timestamp"] == records_timestamp(app, "main", "cfr")
    assert [r["id"] for r in body["changes"]] == [second["id"], first["id"]]
    app.delete(f"/v1/buckets/main/collections/cfr/records/{first['id']}", headers=ALICE)
    since = app.get(f'{url}&_since="{second["last_modified"]}"').json["changes"]
    assert since == [{"id": first["id"], "last_modified": since[0]["last_modified"], "deleted": True}]
    assert len(app.get(f"{url}&_limit=1").json["changes"]) == 1


def test_the_changeset_needs_expected_and_a_quoted_since(app):
    base = "/v1/buckets/main/collections/cfr/changeset"
    body = assert_error(app.get(base, status=400), 400, 107)
    assert body["details"][0]["name"] == "_expected"
    body = assert_error(app.get(f"{base}?_expected=1&_since=42", status=400), 400, 107)
    assert body["details"][0]["name"] == "_since"
    for bad in ("abc", "-1", "9" * 30):
        body = assert_error(app.get(f"{base}?_expected=1&_limit={bad}", status=400), 400, 107)
        assert body["details"][0]["name"] == "_limit"


def test_a_changeset_limit_beyond_any_count_is_no_limit(app):
    create_record(app, {"n": 1}, "main", "cfr")
    url = f"/v1/buckets/main/collections/cfr/changeset?_expected=1&_limit={2**63}"  # Kinto's bound, accepted
    assert len(app.get(url).json["changes"]) == 1


def test_the_changeset_of_a_private_or_missing_collection(app):
    secret = "/v1/buckets/private/collections/secret/changeset?_expected=1"
    assert_error(app.get(secret, status=401), 401, 104)
    assert_error(app.get(secret, headers=BOB, status=403), 403, 121)
    assert_error(app.get("/v1/buckets/main/collections/nope/changeset?_expected=1", status=404), 404, 111)


def test_the_monitor_changeset_lists_the_entries(app):
    app.get(MONITOR)  # An empty collection's timestamp is fixed when first read.
    create_record(app, {"n": 1}, "main", "certificates")
    body = app.get("/v1/buckets/monitor/collections/changes/changeset?_expected=0").json
    assert body["metadata"] == {}
    # In the order of the watched collections (as kinto-changes), not by date.
    assert [e["collection"] for e in body["changes"]] == ["cfr", "certificates"]  # a bucket's oldest first
    assert "Cache-Control" not in app.get("/v1/buckets/main/collections/cfr/changeset?_expected=1").headers
    assert body["timestamp"] == records_timestamp(app, "main", "certificates")
    only = app.get("/v1/buckets/monitor/collections/changes/changeset?_expected=0&collection=cfr").json
    assert [e["collection"] for e in only["changes"]] == ["cfr"]


def test_the_capability_names_the_watched_resources(app):
    capability = app.get("/v1/").json["capabilities"]["changes"]
    assert capability["collections"] == ["/buckets/main", "/buckets/private/collections/secret"]
    assert "/buckets/{bucket_id}/collections/{collection_id}/changeset" in app.get("/v1/__api__").json["paths"]


def test_a_resources_setting_that_names_no_bucket_or_collection_stops_the_start(make_app):
    from kinto_server.settings import ConfigurationError

    with pytest.raises(ConfigurationError, match="kinto.changes.resources"):
        make_app(**{"kinto.includes": "kinto_changes", "kinto.changes.resources": "/buckets/b/groups/g"})
