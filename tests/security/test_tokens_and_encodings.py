"""Forged pagination tokens, and encoding tricks in batch paths and headers:
each answered with a Kinto error, never a 500 nor a way around a check."""

import pytest

from kinto_server.resources import pagination
from tests.support import ALICE, BOB, assert_error

RECORDS = "/v1/buckets/private/collections/c/records"


def _forged(app, last):
    return pagination.encode(app.app.registry.settings, last)


@pytest.mark.parametrize(
    "last",
    [{"id": 5}, {"id": None}, {"id": ["x"]}, {"id": "a", "last_modified": "x"}, {"id": "a", "last_modified": 1.5}],
    ids=repr,
)
@pytest.mark.parametrize("url", [RECORDS, "/v1/permissions", "/v1/buckets", "/v1/accounts"])
def test_a_signed_token_with_keys_of_the_wrong_type_is_a_400(app, url, last):
    app.put_json("/v1/accounts/alice2", {"data": {"password": "pw"}}, status=201)
    response = app.get(url, {"_token": _forged(app, last), "_limit": "1"}, headers=ALICE, expect_errors=True)
    assert_error(response, 400, 107)


def test_a_signed_token_with_a_sort_value_of_another_type_still_pages(app):
    token = _forged(app, {"id": "a", "secret": {"deep": [1, None]}})
    response = app.get(RECORDS, {"_token": token, "_sort": "secret"}, headers=ALICE, status=200)
    assert response.json["data"] == [] or all("id" in r for r in response.json["data"])


@pytest.mark.parametrize("path", ["/%62atch", "/v1/%62atch", "/BATCH/", "/v1//batch", "/v1/./batch", "/v1/x/../batch"])
def test_a_batch_cannot_contain_a_batch_however_its_path_is_written(app, path):
    inner = {"requests": [{"path": "/buckets/private"}]}
    body = {"requests": [{"method": "POST", "path": path, "body": inner}]}
    response = app.post_json("/v1/batch", body, headers=ALICE, expect_errors=True)
    if response.status_code == 200:  # Refused where it is run, if not where it is read.
        assert all(r["status"] in (400, 404) for r in response.json["responses"])
    else:
        assert_error(response, 400, 107)


def test_a_batch_with_defaults_is_bounded_in_total_sub_requests(app):
    limit = app.app.registry.settings["batch_max_requests"]
    body = {"defaults": {"method": "GET"}, "requests": [{"path": "/buckets/private"}] * (limit + 1)}
    assert_error(app.post_json("/v1/batch", body, headers=ALICE, status=400), 400, 107)


def test_a_lowercase_authorization_header_in_a_sub_request_is_honoured(app):
    token = BOB["Authorization"]
    body = {"requests": [{"path": "/buckets/private", "headers": {"authorization": token}}]}
    answer = app.post_json("/v1/batch", body, headers=ALICE).json["responses"][0]
    assert answer["status"] == 403
    body = {"requests": [{"path": "/", "headers": {"authorization": token}}]}
    answer = app.post_json("/v1/batch", body, headers=ALICE).json["responses"][0]
    assert answer["body"]["user"]["id"] == app.get("/v1/", headers=BOB).json["user"]["id"]


@pytest.mark.parametrize("headers", [{"Content-Length": "12"}, {"content-length": "7"}, {"Content-Length": "x"}])
def test_a_sub_request_with_a_content_length_and_no_body_is_answered(app, headers):
    body = {"requests": [{"method": "PUT", "path": "/buckets/private/collections/new", "headers": headers}]}
    answer = app.post_json("/v1/batch", body, headers=ALICE).json["responses"][0]
    assert answer["status"] < 500
