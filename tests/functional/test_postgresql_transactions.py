"""Behaviour specific to the PostgreSQL backends: one transaction per request."""

import pytest
from webtest import TestApp

from kinto_server import main
from kinto_server.database import ConcurrentWriteConflict
from tests.backends import database_client, settings_for
from tests.support import ALICE, BASE_SETTINGS, create_bucket, create_collection, records_url


@pytest.fixture
def app():
    database_client()  # An empty database (or a skip with the reason, outside CI).
    app = TestApp(main({}, **BASE_SETTINGS, **settings_for("postgresql")))
    create_bucket(app)
    create_collection(app)
    return app


def test_failed_request_leaves_nothing_written(app, monkeypatch):
    permission = app.app.registry.permission

    def fail(**kwargs):
        raise RuntimeError("permission write failed")

    monkeypatch.setattr(permission, "replace_object_permissions", fail)
    app.put_json(records_url() + "/r1", {"data": {"a": 1}}, headers=ALICE, status=500)
    monkeypatch.undo()
    app.get(records_url() + "/r1", headers=ALICE, status=404)
    assert app.get(records_url() + "?_since=0", headers=ALICE).json["data"] == []


def test_request_aborted_by_a_concurrent_transaction_is_retried(app, monkeypatch):
    storage = app.app.registry.storage
    original = storage.create
    calls = []

    def conflict_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ConcurrentWriteConflict("deadlock detected")
        return original(**kwargs)

    monkeypatch.setattr(storage, "create", conflict_once)
    response = app.put_json(records_url() + "/r1", {"data": {"a": 1}}, headers=ALICE, status=201)
    assert response.json["data"]["a"] == 1
    assert len(calls) == 2


def test_failed_batch_subrequest_is_rolled_back_alone(app, monkeypatch):
    permission = app.app.registry.permission
    original = permission.replace_object_permissions

    def fail_for_r2(**kwargs):
        if kwargs["object_uri"].endswith("/records/r2"):
            raise RuntimeError("permission write failed")
        return original(**kwargs)

    monkeypatch.setattr(permission, "replace_object_permissions", fail_for_r2)
    body = {
        "defaults": {"method": "PUT", "body": {"data": {"a": 1}}},
        "requests": [{"path": records_url()[3:] + f"/r{i}"} for i in (1, 2, 3)],
    }
    responses = app.post_json("/v1/batch", body, headers=ALICE).json["responses"]
    assert [r["status"] for r in responses] == [201, 500, 201]
    monkeypatch.undo()
    ids = sorted(r["id"] for r in app.get(records_url() + "?_since=0", headers=ALICE).json["data"])
    assert ids == ["r1", "r3"]
