"""Another program holding the SQLite file's write lock: reads are still
served, writes wait up to ``storage_pool_timeout`` then get a 503 with
Retry-After (nothing half written), and the server recovers by itself once
the lock is released."""

import sqlite3

import pytest
from webtest import TestApp

from kinto_server import main
from tests.support import ALICE, BASE_SETTINGS, assert_error, create_bucket


@pytest.fixture
def app(tmp_path):
    settings = {
        **BASE_SETTINGS,
        **{f"kinto.{role}_backend": "sqlite" for role in ("storage", "permission", "cache")},
        "kinto.storage_url": f"sqlite://{tmp_path}/locked.sqlite",
        "kinto.storage_pool_timeout": "1",
    }
    app = TestApp(main({}, **settings))
    app.path = tmp_path / "locked.sqlite"
    return app


def test_a_locked_file_refuses_writes_with_503_and_recovers_when_released(app, caplog):
    create_bucket(app, "kept")
    other_program = sqlite3.connect(app.path, isolation_level=None)
    other_program.execute("BEGIN EXCLUSIVE")
    try:
        assert app.get("/v1/buckets/kept", headers=ALICE).json["data"]["id"] == "kept"
        response = app.put_json("/v1/buckets/new", {}, headers=ALICE, status=503)
        assert_error(response, 503, 201)
        assert int(response.headers["Retry-After"]) > 0
        assert "SQLite: database is locked" in caplog.text  # the operator's log says why
    finally:
        other_program.execute("ROLLBACK")
        other_program.close()
    app.get("/v1/buckets/new", headers=ALICE, status=403)  # nothing of the refused write was kept
    app.put_json("/v1/buckets/new", {}, headers=ALICE, status=201)
    assert {b["id"] for b in app.get("/v1/buckets", headers=ALICE).json["data"]} == {"kept", "new"}
