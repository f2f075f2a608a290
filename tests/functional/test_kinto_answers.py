"""Answers exactly as Kinto 26.5 gives them, where a side-by-side replay
found ours different (issue 11): statuses, headers and bodies."""

import hashlib
import json
from datetime import datetime

import pytest
from webtest import TestApp

from tests.support import ALICE, assert_error, auth, create_bucket, create_collection, records_url


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


OBJECT_EXPOSED = (
    "Backoff, Retry-After, Alert, Content-Length, Content-Type, Last-Modified, ETag, Cache-Control, Expires, Pragma"
)
BASE_EXPOSED = "Backoff, Retry-After, Alert, Content-Length, Content-Type"


def test_exposed_headers_follow_the_method_not_the_status(app):
    bob = auth("bob")
    assert app.get(records_url() + "/r1", headers=bob, status=403).headers["Access-Control-Expose-Headers"] == (
        OBJECT_EXPOSED
    )
    assert app.get(records_url() + "/nope", headers=ALICE, status=404).headers["Access-Control-Expose-Headers"] == (
        OBJECT_EXPOSED
    )
    put = app.put(records_url() + "/r2", "{", headers={**ALICE, "Content-Type": "application/json"}, status=400)
    assert put.headers["Access-Control-Expose-Headers"] == BASE_EXPOSED
    etag = app.get(records_url(), headers=ALICE).headers["ETag"]
    not_modified = app.get(records_url(), headers={**ALICE, "If-None-Match": etag}, status=304)
    assert not_modified.headers["Access-Control-Expose-Headers"] == OBJECT_EXPOSED + ", Next-Page"
    head = app.head(records_url(), headers=ALICE)
    assert head.headers["Access-Control-Expose-Headers"].endswith("Next-Page, Total-Objects, Total-Records")
    not_acceptable = app.get(records_url() + "/r1", headers={**ALICE, "Accept": "text/html"}, status=406)
    assert not_acceptable.headers["Access-Control-Expose-Headers"] == OBJECT_EXPOSED


def test_a_405_exposes_nothing_and_allows_options(app):
    response = app.post_json(records_url() + "/r1", {}, headers=ALICE, status=405)
    assert "Access-Control-Expose-Headers" not in response.headers
    assert response.headers["Allow"] == "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"


def test_every_answer_forbids_sniffing_and_active_content(app):
    for response in (app.get("/v1/", status=200), app.get("/v1/nothing", status=404), app.get("/v1", status=307)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert (
            response.headers["Content-Security-Policy"]
            == "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
        )


def test_redirects_may_be_cached_for_an_hour(app):
    response = app.get("/v1/buckets/", status=307)
    assert response.headers["Cache-Control"] == "max-age=3600"
    assert "Expires" in response.headers


PREFLIGHT = {"Origin": "http://app.example", "Access-Control-Request-Method": "PUT"}


def test_a_preflight_allows_the_endpoints_methods_and_exposed_headers(app):
    response = app.options(
        records_url() + "/r1", headers={**PREFLIGHT, "Access-Control-Request-Headers": "Authorization, If-Match"}
    )
    assert response.json is None
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"
    allowed = response.headers["Access-Control-Allow-Headers"].split(", ")
    assert set(allowed) == {*OBJECT_EXPOSED.split(", "), "Authorization", "If-Match"}
    assert response.headers["Access-Control-Max-Age"] == "3600"
    listing = app.options(records_url(), headers={**PREFLIGHT, "Access-Control-Request-Method": "POST"})
    assert {"Next-Page", "Total-Objects", "Total-Records"} <= set(
        listing.headers["Access-Control-Allow-Headers"].split(", ")
    )


@pytest.mark.parametrize(
    ("headers", "details"),
    [
        ({}, [("Access-Control-Request-Method", "this header is mandatory"), ("Origin", "this header is mandatory")]),
        ({"Origin": "http://app.example"}, [("Access-Control-Request-Method", "this header is mandatory")]),
        (
            {**PREFLIGHT, "Access-Control-Request-Method": "POST"},
            [("Access-Control-Request-Method", "Method not allowed")],
        ),
    ],
)
def test_an_incomplete_or_refused_preflight_is_a_400(app, headers, details):
    body = assert_error(app.options(records_url() + "/r1", headers=headers, status=400), 400, 107)
    assert [(d["name"], d["description"]) for d in body["details"]] == details
    assert body["message"] == f"{details[0][0]} in header: {details[0][1]}"


def test_a_preflight_on_an_unknown_path_is_a_404(app):
    assert_error(app.options("/v1/nothing", headers=PREFLIGHT, status=404), 404, 111)


def test_the_root_describes_the_ini_it_was_started_with(make_app, tmp_path):
    ini = tmp_path / "server.ini"
    ini.write_text("[app:main]\n")
    from kinto_server import main
    from tests.backends import settings_for
    from tests.support import BASE_SETTINGS

    settings = {**BASE_SETTINGS, **settings_for("memory")}
    config = TestApp(main({"__file__": str(ini)}, **settings)).get("/v1/").json["config"]
    assert config["path"] == str(ini)
    assert config["hash"] == hashlib.sha256(b"[app:main]\n").hexdigest()
    assert datetime.fromisoformat(config["modified"]).timestamp() == pytest.approx(ini.stat().st_mtime, abs=1)
    assert make_app().get("/v1/").json["config"] is None


def test_the_flush_endpoint_is_announced_when_enabled(make_app):
    app = make_app(**{"kinto.includes": "kinto.plugins.flush"})
    assert app.get("/v1/").json["capabilities"]["flush_endpoint"]["url"].endswith("/flush.html")
    flushed = app.post("/v1/__flush__", status=202)
    assert flushed.json == {}
    assert flushed.headers["Content-Type"] == "application/json"


def test_invalid_json_has_kintos_two_details(app):
    response = app.put(records_url() + "/r2", "{", headers={**ALICE, "Content-Type": "application/json"}, status=400)
    details = assert_error(response, 400, 107)["details"]
    assert [(d["location"], d["name"]) for d in details] == [("body", ""), ("body", "")]
    assert details[0]["description"].startswith("Invalid JSON: ")
    assert details[1]["description"] == "Required"


@pytest.mark.parametrize(
    ("body", "name", "description", "message"),
    [
        ([1, 2], "", '"[1, 2]" is not a mapping type: Does not implement dict-like functionality.', None),
        (
            {"data": 3},
            "data",
            '"3" is not a mapping type: Does not implement dict-like functionality.',
            'data in body: "3" is not a mapping type: Does not implement dict-like functionality.',
        ),
        (
            {"permissions": {"frob": ["bob"]}},
            "permissions",
            '"frob" is not one of read, write',
            'permissions in body: "frob" is not one of read, write',
        ),
        (
            {"data": {"cache_expires": "x"}},
            "data.cache_expires",
            '"x" is not a number',
            'data.cache_expires in body: "x" is not a number',
        ),
    ],
)
def test_body_errors_use_kintos_wording(app, body, name, description, message):
    url = "/v1/buckets/b/collections/c2" if "cache_expires" in json.dumps(body) else records_url() + "/r2"
    body = assert_error(app.put_json(url, body, headers=ALICE, status=400), 400, 107)
    assert body["details"] == [{"location": "body", "name": name, "description": description}]
    assert body["message"] == (message or description)


def test_an_error_naming_its_field_is_its_own_message(make_app):
    app = make_app(**{"kinto.experimental_collection_schema_validation": "true"})
    create_bucket(app)
    app.put_json(
        "/v1/buckets/b/collections/strict",
        {"data": {"schema": {"type": "object", "required": ["title"]}}},
        headers=ALICE,
    )
    response = app.put_json("/v1/buckets/b/collections/strict/records/r", {"data": {}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["message"] == "'title' is a required property"


def test_an_invalid_collection_schema_names_the_failing_key(make_app):
    app = make_app(**{"kinto.experimental_collection_schema_validation": "true"})
    create_bucket(app)
    response = app.put_json(
        "/v1/buckets/b/collections/bad", {"data": {"schema": {"type": 42}}}, headers=ALICE, status=400
    )
    detail = assert_error(response, 400, 107)["details"][0]
    assert detail["name"] == "data.schema"
    assert detail["description"] == "type42 is not valid under any of the given schemas"


def test_a_missing_object_is_a_404_without_message(app):
    body = assert_error(app.get(records_url() + "/nope", headers=ALICE, status=404), 404, 110)
    assert "message" not in body
    assert body["details"] == {"id": "nope", "resource_name": "record"}


@pytest.mark.parametrize(
    ("query", "name", "description"),
    [
        ("_limit=abc", "_limit", '"abc" is not a number'),
        ("_limit=-1", "_limit", "-1 is less than minimum value 0"),
        ("_since=abc", "_since", '"abc" is not a number'),
        ("gt_last_modified=abc", "gt_last_modified", "Invalid value for gt_last_modified"),
        ("in_last_modified=1,x", "in_last_modified", "Invalid value for in_last_modified"),
        ("_token=garbage", None, "_token has invalid content"),
    ],
)
def test_querystring_errors_use_kintos_wording(app, query, name, description):
    body = assert_error(app.get(records_url() + "?" + query, headers=ALICE, status=400), 400, 107)
    assert body["details"] == [{"location": "querystring", "name": name, "description": description}]


def test_an_invalid_if_match_uses_kintos_wording(app):
    response = app.patch_json(records_url() + "/r1", {"data": {}}, headers={**ALICE, "If-Match": "abc"}, status=400)
    assert (
        assert_error(response, 400, 107)["message"]
        == "If-Match in header: The value should be integer between double quotes."
    )


def test_an_invalid_collection_id_in_the_personal_bucket_says_so(app):
    response = app.get("/v1/buckets/default/collections/a%20b/records", headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["message"] == "path: Invalid collection id"


def test_next_page_keeps_the_querystring_order(app):
    app.put_json(records_url() + "/r2", {"data": {"a": 2}}, headers=ALICE)
    next_page = app.get(records_url() + "?_limit=1&_sort=a&has_a=true", headers=ALICE).headers["Next-Page"]
    assert "?_limit=1&_sort=a&has_a=true&_token=" in next_page


def test_objects_equal_on_the_sort_fields_come_newest_first(app):
    for record_id in ("x1", "x2", "x3"):
        app.put_json(records_url() + f"/{record_id}", {"data": {"same": 1}}, headers=ALICE)
    ids = [r["id"] for r in app.get(records_url() + "?_sort=same&has_same=true", headers=ALICE).json["data"]]
    assert ids == ["x3", "x2", "x1"]


def test_a_plural_delete_answers_in_the_order_of_its_page(app):
    for record_id in ("x1", "x2", "x3"):
        app.put_json(records_url() + f"/{record_id}", {"data": {"k": record_id}}, headers=ALICE)
    listed = [r["id"] for r in app.get(records_url() + "?has_k=true", headers=ALICE).json["data"]]
    deleted = [r["id"] for r in app.delete(records_url() + "?has_k=true", headers=ALICE).json["data"]]
    assert deleted == listed == ["x3", "x2", "x1"]


def test_the_permissions_list_is_dated_and_counted(make_app):
    app = make_app(**{"kinto.experimental_permissions_endpoint": "true"})
    create_bucket(app)
    listing = app.get("/v1/permissions", headers=ALICE)
    assert listing.headers["ETag"].strip('"').isdigit()
    assert "Last-Modified" in listing.headers
    head = app.head("/v1/permissions", headers=ALICE)
    assert head.headers["Total-Objects"] == head.headers["Total-Records"] == str(len(listing.json["data"]))
    assert head.body == b""


def test_batch_defaults_are_checked_as_a_sub_request(app):
    body = {"defaults": {"frob": 1, "method": "GET"}, "requests": [{"path": "/buckets"}]}
    response = app.post_json("/v1/batch", body, headers=ALICE, status=400)
    unknown = "Unrecognized keys in mapping: \"{'frob': 1}\""
    assert assert_error(response, 400, 107)["details"] == [  # As Kinto: the defaults, and where they went.
        {"location": "body", "name": "defaults", "description": unknown},
        {"location": "body", "name": "requests.0", "description": unknown},
    ]
    response = app.post_json("/v1/batch", {"defaults": {"method": "FROB"}, "requests": [{"path": "/"}]}, status=400)
    assert [d["name"] for d in response.json["details"]] == ["defaults.method", "requests.0.method"]


def test_a_dotted_field_meeting_a_plain_value_keeps_that_value(app):
    app.put_json(records_url() + "/r2", {"data": {"author": "ann", "d": {"e": {"f": 1}}}}, headers=ALICE)
    shown = app.get(records_url() + "/r2?_fields=author.name,d.e.g,nope.x", headers=ALICE).json["data"]
    assert {k: v for k, v in shown.items() if k not in ("id", "last_modified")} == {"author": "ann", "d": {"e": {}}}
