"""Answers exactly as Kinto 26.5 gives them, where a side-by-side replay
found ours different (issue 11): statuses, headers and bodies."""

import json

import pytest

from tests.support import ALICE, assert_error, create_bucket, create_collection, records_url


@pytest.fixture
def app(app):
    create_bucket(app)
    create_collection(app)
    app.put_json(records_url() + "/r1", {"data": {"a": 1, "b": 2}}, headers=ALICE)
    return app


def test_a_patch_that_says_nothing_is_a_400(app):
    body = assert_error(app.patch_json(records_url() + "/r1", {}, headers=ALICE, status=400), 400, 107)
    assert body["message"] == "Provide at least one of data or permissions"
    assert body["details"] == [
        {"location": "body", "name": "data", "description": "Provide at least one of data or permissions"}
    ]


def test_fields_apply_to_one_object_too(app):
    response = app.get(records_url() + "/r1?_fields=a", headers=ALICE)
    data = response.json["data"]
    assert data == {"a": 1, "id": "r1", "last_modified": data["last_modified"]}
    assert "permissions" not in response.json


def test_a_412_for_a_missing_object_carries_its_lists_etag(app):
    listing = app.get(records_url(), headers=ALICE)
    response = app.put_json(records_url() + "/nope", {"data": {}}, headers={**ALICE, "If-Match": '"1"'}, status=412)
    assert_error(response, 412, 114)
    assert response.headers["ETag"] == listing.headers["ETag"]
    assert response.headers["Last-Modified"] == listing.headers["Last-Modified"]


def test_a_list_asked_with_to_warns_of_its_deprecation(app):
    alert = json.loads(app.get(records_url() + "?_to=1", headers=ALICE).headers["Alert"])
    assert alert["code"] == "soft-eol"
    assert "_before" in alert["message"]
    assert "Alert" not in app.get(records_url() + "?_before=1", headers=ALICE).headers


@pytest.mark.parametrize(
    ("code", "header", "request_headers"),
    [(415, "Content-Type", {"Content-Type": "text/plain"}), (406, "Accept", {"Accept": "text/html"})],
)
def test_unsupported_media_types_are_kintos_invalid_parameters(app, code, header, request_headers):
    response = app.put(records_url() + "/r2", "x", headers={**ALICE, **request_headers}, expect_errors=True)
    body = assert_error(response, code, 107)
    description = f"{header} header should be one of ['application/json']"
    assert body["error"] == "Invalid parameters"
    assert body["message"] == description
    assert body["details"] == [{"location": "header", "name": header, "description": description}]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("PUT", "/v1/buckets/b%20x", None),
        ("PUT", "/v1/buckets/b/collections/c/records/r%20x", {"data": {}}),
        ("POST", "/v1/buckets", {"data": {"id": "b x"}}),
    ],
)
def test_an_invalid_id_is_kintos_path_error(app, method, url, body):
    headers = {**ALICE, "Content-Type": "application/json"}
    response = app.request(
        url, method=method, body=json.dumps(body or {}).encode(), headers=headers, expect_errors=True
    )
    error = assert_error(response, 400, 107)
    assert error["message"] == "path: Invalid object id"
    assert error["details"] == [{"location": "path", "name": None, "description": "Invalid object id"}]


def test_a_limit_past_64_bits_is_a_400(app):
    response = app.get(records_url() + "?_limit=99999999999999999999", headers=ALICE, status=400)
    error = assert_error(response, 400, 107)
    assert error["details"][0]["name"] == "_limit"
    assert "greater than maximum value 9223372036854775808" in error["message"]


def test_the_first_put_of_a_default_collection_creates_it(app):
    app.put_json("/v1/buckets/default/collections/fresh", {"data": {}}, headers=ALICE, status=201)
    app.put_json("/v1/buckets/default/collections/fresh", {"data": {}}, headers=ALICE, status=200)
    app.get("/v1/buckets/default/collections/other", headers=ALICE, status=200)  # Still implicit on other methods.
