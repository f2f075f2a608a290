"""Behaviour specific to the PostgreSQL backends: one transaction per request."""

import psycopg2
import pytest
from webtest import TestApp

from kinto_server import events, main
from kinto_server.database import ConcurrentWriteConflict
from kinto_server.database.postgresql import Prepared
from kinto_server.storage import ObjectExistsError
from tests.backends import database_client, settings_for, statements_sent
from tests.support import ALICE, BASE_SETTINGS, create_bucket, create_collection, records_url


@pytest.fixture
def app():
    database_client()  # An empty database (or a skip with the reason, outside CI).
    app = TestApp(main({}, **BASE_SETTINGS, **settings_for("postgresql")))
    create_bucket(app)
    create_collection(app)
    return app


def test_failed_request_leaves_nothing_written(app, monkeypatch):
    def fail(*args):
        raise RuntimeError("failure after the object and its ACEs were written")

    monkeypatch.setattr(events, "notify", fail)
    app.put_json(records_url() + "/r1", {"data": {"a": 1}}, headers=ALICE, status=500)
    monkeypatch.undo()
    app.get(records_url() + "/r1", headers=ALICE, status=404)
    assert app.get(records_url() + "?_since=0", headers=ALICE).json["data"] == []


def test_request_aborted_by_a_concurrent_transaction_is_retried(app, monkeypatch):
    combined = app.app.registry.combined
    original = combined.create
    calls = []

    def conflict_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ConcurrentWriteConflict("deadlock detected")
        return original(**kwargs)

    monkeypatch.setattr(combined, "create", conflict_once)
    response = app.put_json(records_url() + "/r1", {"data": {"a": 1}}, headers=ALICE, status=201)
    assert response.json["data"]["a"] == 1
    assert len(calls) == 2


def test_failed_batch_subrequest_is_rolled_back_alone(app, monkeypatch):
    original = events.notify

    def fail_for_r2(request, action, ref, *args):
        if ref.object_id == "r2":
            raise RuntimeError("failure after r2 was written")
        return original(request, action, ref, *args)

    monkeypatch.setattr(events, "notify", fail_for_r2)
    body = {
        "defaults": {"method": "PUT", "body": {"data": {"a": 1}}},
        "requests": [{"path": records_url()[3:] + f"/r{i}"} for i in (1, 2, 3)],
    }
    responses = app.post_json("/v1/batch", body, headers=ALICE).json["responses"]
    assert [r["status"] for r in responses] == [201, 500, 201]
    monkeypatch.undo()
    ids = sorted(r["id"] for r in app.get(records_url() + "?_since=0", headers=ALICE).json["data"])
    assert ids == ["r1", "r3"]


def test_creation_and_its_aces_are_one_statement_and_fail_together(app, monkeypatch):
    """The combined create writes the ACEs only with the object: over a live
    object (a concurrent POST won) neither is written."""
    registry = app.app.registry
    obj = {"id": "r9", "a": 1}
    uri = records_url()[3:] + "/r9"
    parent = "/buckets/b/collections/c"
    created = registry.combined.create(
        resource_name="record", parent_id=parent, obj=obj, object_uri=uri, permissions={"write": {"alice"}}
    )
    assert created["id"] == "r9" and created["last_modified"] > 0
    assert registry.permission.get_objects_permissions(object_uris=[uri]) == [{"write": {"alice"}}]
    with pytest.raises(ObjectExistsError) as exists:
        registry.combined.create(
            resource_name="record", parent_id=parent, obj={"id": "r9"}, object_uri=uri, permissions={"read": {"bob"}}
        )
    assert exists.value.existing["a"] == 1
    assert registry.permission.get_objects_permissions(object_uris=[uri]) == [{"write": {"alice"}}]


def test_batch_of_creations_in_one_collection_costs_four_round_trips(app, monkeypatch):
    """The caller's principals, the ancestors (once: the batch remembers
    them), the first creation (which takes the collection's turn), then the
    24 others queued and sent with the COMMIT as one statement."""
    requests = [{"method": "POST", "path": records_url()[3:], "body": {"data": {"n": n}}} for n in range(25)]
    answers = []

    def post():
        answers.append(app.post_json("/v1/batch", {"requests": requests}, headers=ALICE))

    sent = statements_sent(app.app.registry.storage.client, monkeypatch, post)
    responses = answers[0].json["responses"]
    assert [r["status"] for r in responses] == [201] * 25
    assert len(sent) == 4, sent
    listed = app.get(records_url() + "?_sort=n", headers=ALICE)
    assert [r["n"] for r in listed.json["data"]] == list(range(25))
    assert app.head(records_url(), headers=ALICE).headers["Total-Records"] == "25"


def _in_request(client, work):
    client.start_request(False)
    try:
        return work()
    except BaseException:
        client.finish_request(False)
        raise


def test_a_queued_creation_over_a_live_object_fails_the_commit_as_a_conflict(app):
    """Never dropped silently: the transaction is aborted as a conflict (a
    request is then tried again whole, and finds the object)."""
    storage = app.app.registry.storage
    parent = "/buckets/b/collections/c"
    storage.create(resource_name="record", parent_id=parent, obj={"id": "x", "n": 0})

    def work():
        first = storage.create(resource_name="record", parent_id=parent, obj={"id": "a"})
        queued = storage.create(resource_name="record", parent_id=parent, obj={"id": "x", "n": 1})
        assert queued["last_modified"] > first["last_modified"]

    _in_request(storage.client, work)
    with pytest.raises(ConcurrentWriteConflict):
        storage.client.finish_request(True)
    assert [r["id"] for r in storage.list_all(resource_name="record", parent_id=parent)] == ["x"]
    assert storage.get(resource_name="record", parent_id=parent, object_id="x")["n"] == 0


def test_queued_stamps_not_above_the_parent_timestamp_fail_the_commit(app):
    """A statement that bumps a parent's timestamp without the transaction
    knowing (a bug) makes the queued creations fail loudly, never be stored
    with timestamps out of order."""
    storage = app.app.registry.storage
    parent = "/buckets/b/collections/c"
    rogue = Prepared(
        "UPDATE timestamps SET last_modified = last_modified + 1000 WHERE parent_id = %(parent_id)s",
        keeps_stamps=True,
    )

    def work():
        storage.create(resource_name="record", parent_id=parent, obj={"id": "a"})
        storage.client.execute(rogue, {"parent_id": parent})
        storage.create(resource_name="record", parent_id=parent, obj={"id": "b"})

    _in_request(storage.client, work)
    with pytest.raises(psycopg2.Error, match="queued timestamps"):
        storage.client.finish_request(True)
    assert storage.list_all(resource_name="record", parent_id=parent) == []
    # The connection went back to the pool usable.
    storage.create(resource_name="record", parent_id=parent, obj={"id": "c"})
