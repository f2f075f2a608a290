import pytest

from kinto_server.events import AfterResourceChanged, ResourceChanged
from tests import listener
from tests.support import ALICE, user_id


@pytest.fixture
def app(make_app):
    listener.RECEIVED.clear()
    app = make_app(
        **{
            "kinto.event_listeners": "test",
            "kinto.event_listeners.test.use": "tests.listener",
            "kinto.event_listeners.test.resources": "bucket record",
        }
    )
    app.put("/v1/buckets/b", headers=ALICE)
    app.put("/v1/buckets/b/collections/c", headers=ALICE)
    return app


def actions():
    return [(e.payload["action"], e.payload["resource_name"], e.payload["id"]) for e in listener.RECEIVED]


def test_listeners_receive_committed_changes_with_old_and_new(app):
    url = "/v1/buckets/b/collections/c/records/r1"
    app.put_json(url, {"data": {"v": 1}}, headers=ALICE)
    app.patch_json(url, {"data": {"v": 2}}, headers=ALICE)
    app.delete(url, headers=ALICE)
    assert actions() == [
        ("create", "bucket", "b"),
        ("create", "record", "r1"),
        ("update", "record", "r1"),
        ("delete", "record", "r1"),
    ]
    update = listener.RECEIVED[2]
    assert isinstance(update, AfterResourceChanged)
    assert update.impacted_objects[0]["old"]["v"] == 1 and update.impacted_objects[0]["new"]["v"] == 2
    assert update.payload["uri"] == "/buckets/b/collections/c/records/r1"
    assert update.payload["collection_id"] == "c" and update.payload["bucket_id"] == "b"
    assert update.payload["user_id"] == user_id("alice")
    assert listener.RECEIVED[3].impacted_objects[0]["new"]["deleted"] is True


def test_failed_requests_send_nothing(app):
    app.put_json(
        "/v1/buckets/b/collections/c/records/r1", {"data": {}}, headers={**ALICE, "If-Match": '"1"'}, status=412
    )
    assert actions() == [("create", "bucket", "b")]


def test_batch_sends_the_events_of_successful_subrequests(app):
    body = {
        "defaults": {"method": "PUT", "body": {"data": {}}},
        "requests": [
            {"path": "/buckets/b/collections/c/records/ok"},
            {"path": "/buckets/b/collections/c/records/no", "headers": {"If-Match": '"1"'}},
        ],
    }
    app.post_json("/v1/batch", body, headers=ALICE)
    assert actions() == [("create", "bucket", "b"), ("create", "record", "ok")]


def test_resource_changed_is_notified_inside_the_request(app):
    seen = []
    app.app.registry.registerHandler(seen.append, (ResourceChanged,))
    app.post_json("/v1/buckets/b/collections/c/records", {"data": {}}, headers=ALICE)
    in_transaction = [e for e in seen if type(e) is ResourceChanged]
    assert [e.payload["action"] for e in in_transaction] == ["create"]
