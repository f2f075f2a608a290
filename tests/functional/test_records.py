from urllib.parse import urlsplit

import pytest

from tests.support import (
    ALICE,
    BOB,
    assert_error,
    create_bucket,
    create_collection,
    create_record,
    records_url,
    user_id,
)


@pytest.fixture
def app(app):
    create_bucket(app)
    create_collection(app)
    return app


def test_post_record_generates_uuid_and_timestamp(app):
    response = app.post_json(records_url(), {"data": {"title": "a"}}, headers=ALICE, status=201)
    data = response.json["data"]
    assert len(data["id"]) == 36
    assert data["title"] == "a"
    assert response.json["permissions"] == {"write": [user_id("alice")]}


def test_post_record_with_existing_id_returns_it_with_200(app):
    app.post_json(records_url(), {"data": {"id": "r1", "v": 1}}, headers=ALICE, status=201)
    response = app.post_json(records_url(), {"data": {"id": "r1", "v": 2}}, headers=ALICE, status=200)
    assert response.json["data"]["v"] == 1


def test_put_record_creates_then_replaces(app):
    url = records_url() + "/r1"
    assert app.put_json(url, {"data": {"a": 1}}, headers=ALICE, status=201).json["data"]["a"] == 1
    replaced = app.put_json(url, {"data": {"b": 2}}, headers=ALICE, status=200).json["data"]
    assert replaced == {"id": "r1", "b": 2, "last_modified": replaced["last_modified"]}


def test_put_record_with_mismatching_body_id_is_400(app):
    response = app.put_json(records_url() + "/r1", {"data": {"id": "r2"}}, headers=ALICE, status=400)
    body = assert_error(response, 400, 107)
    assert body["details"] == [
        {"location": "body", "name": "id", "description": "Object id does not match existing object"}
    ]


def test_patch_record_merges_top_level_fields(app):
    record = create_record(app, {"a": 1, "nested": {"x": 1}})
    url = f"{records_url()}/{record['id']}"
    patched = app.patch_json(url, {"data": {"b": 2, "nested": {"y": 2}}}, headers=ALICE).json["data"]
    assert patched["a"] == 1 and patched["b"] == 2
    assert patched["nested"] == {"y": 2}
    assert patched["last_modified"] > record["last_modified"]


def test_patch_missing_record_is_404_110(app):
    response = app.patch_json(records_url() + "/nope", {"data": {}}, headers=ALICE, status=404)
    body = assert_error(response, 404, 110)
    assert body["details"] == {"id": "nope", "resource_name": "record"}


def test_delete_record_returns_tombstone(app):
    record = create_record(app, {"a": 1})
    response = app.delete(f"{records_url()}/{record['id']}", headers=ALICE)
    tombstone = response.json["data"]
    assert tombstone["deleted"] is True and tombstone["id"] == record["id"]
    assert tombstone["last_modified"] > record["last_modified"]
    app.get(f"{records_url()}/{record['id']}", headers=ALICE, status=404)


def test_delete_records_list_returns_tombstones(app):
    for i in range(3):
        create_record(app, {"i": i})
    response = app.delete(records_url() + "?i=1", headers=ALICE)
    assert len(response.json["data"]) == 1
    assert len(app.get(records_url(), headers=ALICE).json["data"]) == 2


def test_a_paginated_delete_deletes_only_its_page_and_links_the_next(app):
    for n in (3, 1, 4, 2):
        create_record(app, {"n": n})
    response = app.delete(records_url() + "?_limit=1&_sort=n", headers=ALICE)
    assert [t["deleted"] for t in response.json["data"]] == [True]
    assert sorted(r["n"] for r in app.get(records_url(), headers=ALICE).json["data"]) == [2, 3, 4]
    next_page = response.headers["Next-Page"]
    link = urlsplit(next_page)
    second = app.delete(f"{link.path}?{link.query}", headers=ALICE)
    assert len(second.json["data"]) == 1
    assert sorted(r["n"] for r in app.get(records_url(), headers=ALICE).json["data"]) == [3, 4]


def test_a_delete_of_a_filtered_page_keeps_the_rest(app):
    for n in range(6):
        create_record(app, {"n": n, "even": n % 2 == 0})
    response = app.delete(records_url() + "?even=true&_sort=-n&_limit=2", headers=ALICE)
    assert len(response.json["data"]) == 2
    assert "Next-Page" in response.headers
    assert sorted(r["n"] for r in app.get(records_url(), headers=ALICE).json["data"]) == [0, 1, 3, 5]


def test_a_delete_without_limit_is_paginated_by_the_settings(make_app):
    app = make_app(**{"kinto.paginate_by": "2"})
    create_bucket(app)
    create_collection(app)
    for n in range(3):
        create_record(app, {"n": n})
    response = app.delete(records_url(), headers=ALICE)
    assert len(response.json["data"]) == 2
    assert "Next-Page" in response.headers
    assert len(app.get(records_url(), headers=ALICE).json["data"]) == 1


def test_records_in_missing_collection_is_404_111(app):
    response = app.get("/v1/buckets/b/collections/missing/records", headers=ALICE, status=404)
    body = assert_error(response, 404, 111)
    assert body["details"] == {"id": "missing", "resource_name": "collection"}


def test_record_in_missing_collection_is_404_111(app):
    response = app.put_json("/v1/buckets/b/collections/missing/records/r", {"data": {}}, headers=ALICE, status=404)
    assert_error(response, 404, 111)


def test_records_in_unreadable_bucket_is_403(app):
    assert_error(app.get(records_url(), headers=BOB, status=403), 403, 121)
    assert_error(app.get("/v1/buckets/b/collections/missing/records", headers=BOB, status=403), 403, 121)


def test_last_modified_is_strictly_increasing_within_collection(app):
    stamps = [create_record(app, {"i": i})["last_modified"] for i in range(50)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


def test_client_supplied_old_last_modified_is_bumped(app):
    create_record(app, {"i": 0})
    record = create_record(app, {"last_modified": 1000})
    etag = app.get(records_url(), headers=ALICE).headers["ETag"]
    assert record["last_modified"] > 1000
    assert etag == f'"{record["last_modified"]}"'


def test_invalid_record_body_is_400(app):
    response = app.post(records_url(), "{not json", headers={**ALICE, "Content-Type": "application/json"}, status=400)
    body = assert_error(response, 400, 107)
    assert "Invalid JSON" in body["details"][0]["description"]
    response = app.post_json(records_url(), {"data": [1, 2]}, headers=ALICE, status=400)
    assert_error(response, 400, 107)
    response = app.post_json(records_url(), [1], headers=ALICE, status=400)
    assert_error(response, 400, 107)


def test_invalid_record_id_in_url_is_400(app):
    assert_error(app.get(records_url() + "/a%20b", headers=ALICE, status=400), 400, 107)


def test_non_json_content_type_is_415(app):
    response = app.post(records_url(), "a=b", headers={**ALICE, "Content-Type": "text/plain"}, status=415)
    assert_error(response, 415, 107)


def test_unknown_permission_name_is_400(app):
    body = {"data": {}, "permissions": {"record:create": ["x"]}}
    response = app.post_json(records_url(), body, headers=ALICE, status=400)
    assert_error(response, 400, 107)


def test_principals_must_be_strings(app):
    body = {"data": {}, "permissions": {"read": [1, {}]}}
    assert_error(app.post_json(records_url(), body, headers=ALICE, status=400), 400, 107)


def test_unknown_top_level_body_keys_are_400(app):
    response = app.post_json(records_url(), {"data": {}, "foo": 1}, headers=ALICE, status=400)
    body = assert_error(response, 400, 107)
    assert "Unrecognized keys" in body["message"]


def test_empty_principal_is_400(app):
    body = {"data": {}, "permissions": {"read": [""]}}
    response = app.post_json(records_url(), body, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "permissions.read.0"


def test_write_with_non_json_content_type_and_no_body_is_415(app):
    response = app.put(records_url() + "/r1", headers={**ALICE, "Content-Type": "text/plain"}, status=415)
    assert_error(response, 415, 107)


@pytest.mark.parametrize(
    "body", ['{"data": {"a": "x\\u0000y"}}', '{"data": {"a\\u0000": 1}}', '{"data": {"l": ["\\u0000"]}}']
)
def test_null_characters_in_bodies_are_400(app, body):
    response = app.post(records_url(), body, headers={**ALICE, "Content-Type": "application/json"}, status=400)
    assert "Null characters" in assert_error(response, 400, 107)["message"]
    assert app.get(records_url(), headers=ALICE).json["data"] == []


def test_escaped_backslash_u0000_text_is_accepted(app):
    response = app.post(
        records_url(), '{"data": {"a": "\\\\u0000"}}', headers={**ALICE, "Content-Type": "application/json"}
    )
    assert response.json["data"]["a"] == "\\u0000"


@pytest.mark.parametrize("query", ["a=%00", "%00=1", "_sort=a%00", "in_a=x,%00"])
def test_null_characters_in_querystrings_are_400(app, query):
    assert_error(app.get(f"{records_url()}?{query}", headers=ALICE, status=400), 400, 107)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinite_numbers_are_400(app, number):
    body = '{"data": {"n": ' + number + "}}"
    response = app.post(records_url(), body, headers={**ALICE, "Content-Type": "application/json"}, status=400)
    assert "NaN" in assert_error(response, 400, 107)["message"]


@pytest.mark.parametrize("query", ["n=NaN", "n=Infinity", "in_n=NaN,2", "contains_n=[NaN]", "gt_n=1e999", "n=1e999"])
def test_nan_and_infinite_filter_values_are_plain_strings(app, query):
    create_record(app, {"n": 1})
    assert app.get(f"{records_url()}?{query}", headers=ALICE).json["data"] == []
