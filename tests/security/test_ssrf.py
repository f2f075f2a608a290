"""Server-side request forgery: nothing a user stores makes the server open a
network connection. JSON schemas may only reference themselves."""

import socket
import threading

import pytest

from tests.support import ALICE, assert_error

COLLECTION = "/v1/buckets/private/collections/c"


@pytest.fixture
def listener():
    """A TCP listener on the loopback that counts the connections it gets."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    accepted = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)  # Never answered: a fetch would hang.

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", accepted
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    sock.close()


def _remote_schemas(url):
    return [
        {"$ref": f"{url}/x.json"},
        {"type": "object", "properties": {"a": {"$ref": f"{url}/a.json#/definitions/x"}}},
        {"$id": f"{url}/base/", "type": "object", "properties": {"a": {"$ref": "relative.json"}}},
        {"type": "object", "allOf": [{"$ref": "//127.0.0.1:1/x.json"}]},
    ]


def test_a_collection_schema_with_a_remote_reference_is_refused_when_saved(app, listener):
    url, accepted = listener
    for schema in _remote_schemas(url):
        response = app.patch_json(COLLECTION, {"data": {"schema": schema}}, headers=ALICE, status=400)
        assert_error(response, 400, 107)
        assert response.json["details"][0]["name"] == "data.schema"
    assert accepted == []


def test_a_bucket_schema_with_a_remote_reference_is_refused_when_saved(app, listener):
    url, accepted = listener
    for field in ("record:schema", "collection:schema", "group:schema"):
        body = {"data": {field: {"$ref": f"{url}/x.json"}}}
        assert_error(app.patch_json("/v1/buckets/private", body, headers=ALICE, status=400), 400, 107)
    assert accepted == []


def test_a_stored_remote_reference_is_never_fetched_when_validating(app, listener):
    # As a database migrated from Kinto could hold one: written past the API.
    url, accepted = listener
    storage = app.app.registry.storage
    collection = storage.get(resource_name="collection", parent_id="/buckets/private", object_id="c")
    collection["schema"] = {"type": "object", "properties": {"a": {"$ref": f"{url}/x.json"}}}
    storage.update(resource_name="collection", parent_id="/buckets/private", object_id="c", obj=collection)
    response = app.post_json(f"{COLLECTION}/records", {"data": {"a": 1}}, headers=ALICE, status=400)
    assert_error(response, 400, 107)
    assert accepted == []


def test_local_references_still_work(app):
    schema = {
        "type": "object",
        "definitions": {"title": {"type": "string", "maxLength": 5}},
        "properties": {"title": {"$ref": "#/definitions/title"}},
    }
    app.patch_json(COLLECTION, {"data": {"schema": schema}}, headers=ALICE, status=200)
    app.post_json(f"{COLLECTION}/records", {"data": {"title": "short"}}, headers=ALICE, status=201)
    assert_error(
        app.post_json(f"{COLLECTION}/records", {"data": {"title": "far too long"}}, headers=ALICE, status=400),
        400,
        107,
    )
