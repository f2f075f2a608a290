"""A request commits whole or leaves nothing, on every backend: memory undoes
a failed request's writes as PostgreSQL rolls back its transaction."""

from kinto_server import events
from tests.support import ALICE, BOB, create_bucket, create_collection, records_url, user_id


def fail_after_writes(monkeypatch):
    """Make requests fail once their objects and ACEs are written."""

    def fail(*args):
        raise RuntimeError("failure after the object and its ACEs were written")

    monkeypatch.setattr(events, "notify", fail)


def test_a_failed_create_leaves_no_object_and_no_ace(app, monkeypatch):
    create_bucket(app)
    create_collection(app)
    etag = app.get(records_url(), headers=ALICE).headers["ETag"]
    fail_after_writes(monkeypatch)
    body = {"data": {"a": 1}, "permissions": {"read": [user_id("bob")]}}
    app.put_json(records_url() + "/r1", body, headers=ALICE, status=500)
    monkeypatch.undo()
    app.get(records_url() + "/r1", headers=ALICE, status=404)
    assert app.get(records_url() + "?_since=0", headers=ALICE).json["data"] == []
    # The ETag never goes back (memory keeps the undone write's timestamp:
    # a reader may have been given it meanwhile).
    assert int(app.get(records_url(), headers=ALICE).headers["ETag"].strip('"')) >= int(etag.strip('"'))
    # Created again, it carries only the ACEs of the new request.
    app.put_json(records_url() + "/r1", {"data": {}}, headers=ALICE, status=201)
    app.get(records_url() + "/r1", headers=BOB, status=403)


def test_a_failed_group_update_leaves_its_members_as_they_were(app, monkeypatch):
    create_bucket(app)
    app.put_json("/v1/buckets/b/groups/g", {"data": {"members": [user_id("bob")]}}, headers=ALICE)
    fail_after_writes(monkeypatch)
    app.put_json("/v1/buckets/b/groups/g", {"data": {"members": [user_id("mary")]}}, headers=ALICE, status=500)
    monkeypatch.undo()
    assert app.get("/v1/buckets/b/groups/g", headers=ALICE).json["data"]["members"] == [user_id("bob")]
    assert "/buckets/b/groups/g" in app.get("/v1/", headers=BOB).json["user"]["principals"]


def test_a_failed_bucket_delete_leaves_its_children(app, monkeypatch):
    create_bucket(app)
    create_collection(app)
    app.post_json(records_url(), {"data": {"a": 1}}, headers=ALICE)
    fail_after_writes(monkeypatch)
    app.delete("/v1/buckets/b", headers=ALICE, status=500)
    monkeypatch.undo()
    assert len(app.get(records_url(), headers=ALICE).json["data"]) == 1
    assert app.get("/v1/buckets/b", headers=ALICE).json["permissions"]["write"] == [user_id("alice")]
