import pytest

from tests.support import ALICE, assert_error, create_bucket, create_collection, create_record, records_url


@pytest.fixture
def app(app):
    create_bucket(app)
    create_collection(app)
    return app


def etag(response):
    return int(response.headers["ETag"].strip('"'))


def test_list_etag_is_highest_timestamp_including_deletions(app):
    create_record(app, {"a": 1})
    second = create_record(app, {"a": 2})
    assert etag(app.get(records_url(), headers=ALICE)) == second["last_modified"]
    tombstone = app.delete(f"{records_url()}/{second['id']}", headers=ALICE).json["data"]
    assert etag(app.get(records_url(), headers=ALICE)) == tombstone["last_modified"]


def test_empty_list_etag_is_stable(app):
    first = app.get(records_url(), headers=ALICE).headers["ETag"]
    assert app.get(records_url(), headers=ALICE).headers["ETag"] == first


def test_if_match_with_stale_etag_is_412_with_current_etag(app):
    record = create_record(app, {"status": "todo"})
    url = f"{records_url()}/{record['id']}"
    current = app.patch_json(url, {"data": {"status": "doing"}}, headers=ALICE).json["data"]
    headers = {**ALICE, "If-Match": f'"{record["last_modified"]}"'}
    response = app.patch_json(url, {"data": {"status": "done"}}, headers=headers, status=412)
    body = assert_error(response, 412, 114)
    assert body["message"] == "Resource was modified meanwhile"
    assert response.headers["ETag"] == f'"{current["last_modified"]}"'
    assert body["details"]["existing"]["status"] == "doing"


def test_if_match_with_current_etag_succeeds(app):
    record = create_record(app, {"status": "todo"})
    url = f"{records_url()}/{record['id']}"
    headers = {**ALICE, "If-Match": f'"{record["last_modified"]}"'}
    response = app.patch_json(url, {"data": {"status": "done"}}, headers=headers, status=200)
    assert response.json["data"]["status"] == "done"
    later = response.json["data"]["last_modified"]
    app.delete(url, headers={**ALICE, "If-Match": f'"{later}"'}, status=200)


def test_delete_with_stale_if_match_is_412(app):
    record = create_record(app, {"a": 1})
    url = f"{records_url()}/{record['id']}"
    assert_error(app.delete(url, headers={**ALICE, "If-Match": '"1"'}, status=412), 412, 114)
    app.get(url, headers=ALICE, status=200)


def test_malformed_if_match_is_400(app):
    record = create_record(app, {"a": 1})
    url = f"{records_url()}/{record['id']}"
    response = app.patch_json(url, {"data": {}}, headers={**ALICE, "If-Match": "abc"}, status=400)
    assert_error(response, 400, 107)


def test_if_none_match_on_unchanged_get_is_304(app):
    record = create_record(app, {"a": 1})
    response = app.get(records_url(), headers={**ALICE, "If-None-Match": f'"{record["last_modified"]}"'}, status=304)
    assert response.headers["ETag"] == f'"{record["last_modified"]}"'
    url = f"{records_url()}/{record['id']}"
    app.get(url, headers={**ALICE, "If-None-Match": f'"{record["last_modified"]}"'}, status=304)
    app.get(url, headers={**ALICE, "If-None-Match": '"1"'}, status=200)


def test_if_none_match_star_on_put_refuses_to_overwrite(app):
    url = records_url() + "/r1"
    app.put_json(url, {"data": {"a": 1}}, headers={**ALICE, "If-None-Match": "*"}, status=201)
    response = app.put_json(url, {"data": {"a": 2}}, headers={**ALICE, "If-None-Match": "*"}, status=412)
    assert_error(response, 412, 114)
    assert app.get(url, headers=ALICE).json["data"]["a"] == 1


def test_if_match_on_missing_record_is_412(app):
    response = app.put_json(records_url() + "/r1", {"data": {}}, headers={**ALICE, "If-Match": '"123"'}, status=412)
    assert_error(response, 412, 114)


def test_since_returns_changes_and_tombstones(app):
    first = create_record(app, {"a": 1})
    since = etag(app.get(records_url(), headers=ALICE))
    second = create_record(app, {"a": 2})
    app.delete(f"{records_url()}/{first['id']}", headers=ALICE)
    data = app.get(f"{records_url()}?_since={since}", headers=ALICE).json["data"]
    assert [(r["id"], r.get("deleted", False)) for r in data] == [(first["id"], True), (second["id"], False)]


def test_since_accepts_quoted_etag(app):
    create_record(app, {"a": 1})
    since = app.get(records_url(), headers=ALICE).headers["ETag"]
    assert app.get(records_url(), {"_since": since}, headers=ALICE).json["data"] == []


def test_before_and_to_return_older_objects(app):
    first = create_record(app, {"a": 1})
    second = create_record(app, {"a": 2})
    for param in ("_before", "_to"):
        data = app.get(f"{records_url()}?{param}={second['last_modified']}", headers=ALICE).json["data"]
        assert [r["id"] for r in data] == [first["id"]]


def test_plain_list_excludes_tombstones(app):
    record = create_record(app, {"a": 1})
    app.delete(f"{records_url()}/{record['id']}", headers=ALICE)
    assert app.get(records_url(), headers=ALICE).json["data"] == []


def test_invalid_since_is_400(app):
    assert_error(app.get(records_url() + "?_since=abc", headers=ALICE, status=400), 400, 107)
    assert_error(app.get(records_url() + "?_before=1.5", headers=ALICE, status=400), 400, 107)


def test_head_list_counts_live_objects_only(app):
    records = [create_record(app, {"i": i}) for i in range(3)]
    app.delete(f"{records_url()}/{records[0]['id']}", headers=ALICE)
    response = app.head(records_url(), headers=ALICE)
    assert response.headers["Total-Objects"] == "2"
    assert response.headers["Total-Records"] == "2"
    assert "Total-Records" in response.headers["Access-Control-Expose-Headers"]
    assert "Total-Records" not in app.get(records_url(), headers=ALICE).headers


def test_post_on_list_with_stale_if_match_is_412(app):
    create_record(app, {"a": 1})
    response = app.post_json(records_url(), {"data": {}}, headers={**ALICE, "If-Match": '"1"'}, status=412)
    assert_error(response, 412, 114)


def test_patch_without_changes_keeps_timestamp(app):
    record = create_record(app, {"a": 1})
    url = f"{records_url()}/{record['id']}"
    patched = app.patch_json(url, {"data": {"a": 1}}, headers=ALICE).json["data"]
    assert patched["last_modified"] == record["last_modified"]


def test_if_none_match_star_on_get_of_existing_object_is_412(app):
    record = create_record(app, {"a": 1})
    url = f"{records_url()}/{record['id']}"
    assert_error(app.get(url, headers={**ALICE, "If-None-Match": "*"}, status=412), 412, 114)
