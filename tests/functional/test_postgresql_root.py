"""GET /v1/ on PostgreSQL: the caller's group memberships come from a
per-process cache that every membership change clears (notifications)."""

import time

import psycopg2
import pytest
from webtest import TestApp

from kinto_server import main
from kinto_server.database.notifications import dsn
from tests.backends import DATABASE_URL, database_client, settings_for, statements_sent
from tests.support import ALICE, BASE_SETTINGS, user_id


@pytest.fixture
def app():
    database_client()  # An empty database (or a skip with the reason, outside CI).
    app = TestApp(main({}, **BASE_SETTINGS, **settings_for("postgresql")))
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    listener = app.app.registry.permission.listener
    deadline = time.monotonic() + 10
    while listener.current() is None:
        assert time.monotonic() < deadline, "the principals listener did not connect"
        time.sleep(0.01)
    return app


def shown(app):
    return app.get("/v1/", headers=ALICE).json["user"]["principals"]


def statements_of(app, monkeypatch, action):
    return statements_sent(app.app.registry.permission.client, monkeypatch, action)


def test_root_reads_the_memberships_once_then_from_the_cache(app, monkeypatch):
    first = statements_of(app, monkeypatch, lambda: shown(app))
    again = statements_of(app, monkeypatch, lambda: shown(app))
    assert len(first) == 1 and "user_principals" in first[0]
    assert again == []


def test_a_membership_change_in_this_process_shows_at_once(app):
    assert "/buckets/b/groups/g" not in shown(app)
    app.put_json("/v1/buckets/b/groups/g", {"data": {"members": [user_id("alice")]}}, headers=ALICE)
    assert "/buckets/b/groups/g" in shown(app)
    app.patch_json("/v1/buckets/b/groups/g", {"data": {"members": []}}, headers=ALICE)
    assert "/buckets/b/groups/g" not in shown(app)


def test_a_membership_change_by_another_process_shows_once_notified(app):
    assert "/buckets/b/groups/elsewhere" not in shown(app)
    connection = psycopg2.connect(dsn(DATABASE_URL))
    with connection, connection.cursor() as cursor:  # Another process's commit.
        cursor.execute(
            "INSERT INTO user_principals (user_id, principal) VALUES (%s, '/buckets/b/groups/elsewhere')",
            (user_id("alice"),),
        )
    connection.close()
    deadline = time.monotonic() + 5
    while "/buckets/b/groups/elsewhere" not in shown(app):
        assert time.monotonic() < deadline, "the notification never cleared the cache"
        time.sleep(0.01)


def test_nothing_is_kept_while_the_listener_is_not_connected(app, monkeypatch):
    monkeypatch.setattr(app.app.registry.permission.listener, "listening", False)
    assert len(statements_of(app, monkeypatch, lambda: shown(app))) == 1
    monkeypatch.setattr(app.app.registry.permission.listener, "listening", False)
    assert len(statements_of(app, monkeypatch, lambda: shown(app))) == 1
