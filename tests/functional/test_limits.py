"""Limits on what a request may send, each a setting with a safe default."""

import json

import pytest

from tests.support import ALICE, assert_error, create_bucket, create_collection, records_url


@pytest.fixture
def app(make_app):
    app = make_app(
        **{"kinto.max_request_body_bytes": "2000", "kinto.max_json_depth": "10", "kinto.max_id_length": "20"}
    )
    create_bucket(app)
    create_collection(app)
    return app


def test_body_over_the_size_limit_is_413(app):
    body = json.dumps({"data": {"text": "x" * 3000}})
    response = app.post(records_url(), body, headers={**ALICE, "Content-Type": "application/json"}, status=413)
    error = assert_error(response, 413, 113)
    assert error["message"] == "Request body larger than 2000 bytes (the server's max_request_body_bytes setting)."
    assert app.get(records_url(), headers=ALICE).json["data"] == []


def test_body_under_the_limit_is_accepted(app):
    app.post_json(records_url(), {"data": {"text": "x" * 1000}}, headers=ALICE, status=201)


@pytest.mark.parametrize("depth", [11, 3000, 100000])
def test_json_nested_too_deeply_is_400(app, depth):
    body = '{"data": {"x": ' + "[" * depth + "]" * depth + "}}"
    # Past 2,000 bytes the size limit answers first (413); below, the depth limit (400).
    response = app.post(records_url(), body, headers={**ALICE, "Content-Type": "application/json"}, expect_errors=True)
    assert response.status_code in (400, 413)
    assert response.json["errno"] in (107, 113)


def test_json_depth_within_the_limit_is_accepted(app):
    body = {"data": {"x": [[[[[[1]]]]]]}}
    app.post_json(records_url(), body, headers=ALICE, status=201)


def test_ids_over_the_length_limit_are_400(app):
    assert_error(app.put(f"/v1/buckets/{'a' * 21}", headers=ALICE, status=400), 400, 107)
    response = app.post_json(records_url(), {"data": {"id": "r" * 21}}, headers=ALICE, status=400)
    assert_error(response, 400, 107)
    app.put(f"/v1/buckets/{'a' * 20}", headers=ALICE, status=201)


def test_default_limits_keep_kinto_compatibility(make_app):
    app = make_app()
    app.put("/v1/buckets/" + "a" * 300, headers=ALICE, status=201)
    create_bucket(app)
    create_collection(app)
    app.post_json(records_url(), {"data": {"text": "x" * 500_000}}, headers=ALICE, status=201)
