"""CLI commands acting on stored data, run against the PostgreSQL test database."""

import pytest
from webtest import TestApp

from kinto_server import main
from kinto_server.scripts import cli
from kinto_server.storage.postgresql import PostgreSQLStorage
from tests.backends import DATABASE_URL, database_client, settings_for
from tests.support import BASE_SETTINGS, auth


@pytest.fixture
def ini(tmp_path):
    client = database_client()
    path = tmp_path / "pg.ini"
    cli.main(["init", "--ini", str(path), "--backend", "postgresql", "--database-url", DATABASE_URL])
    return path, client


def test_purge_deleted_removes_old_tombstones_only(ini, capsys):
    path, client = ini
    storage = PostgreSQLStorage(client)
    parent = "/buckets/b/collections/c"
    for object_id in ("old", "recent", "live"):
        storage.create(resource_name="record", parent_id=parent, obj={"id": object_id})
    storage.delete(resource_name="record", parent_id=parent, object_id="old")
    client.execute("UPDATE objects SET last_modified = last_modified - 3600000 WHERE id = 'old'")
    storage.delete(resource_name="record", parent_id=parent, object_id="recent")
    assert cli.main(["purge-deleted", "--ini", str(path), "record", "60"]) == 0
    assert "Removed 1 tombstone(s)" in capsys.readouterr().out
    remaining = storage.list_all(resource_name="record", parent_id=parent, include_deleted=True)
    assert sorted(o["id"] for o in remaining) == ["live", "recent"]


def test_purge_deleted_also_forgets_the_change_log_of_that_age(ini, capsys):
    path, client = ini
    storage = PostgreSQLStorage(client)
    for object_id in ("old", "recent"):
        storage.log_changes([("create", "record", "/buckets/b/collections/c", {"id": object_id, "last_modified": 1})])
    client.execute("UPDATE changes SET position = position - 3600000000 WHERE data->>'id' = 'old'")
    assert cli.main(["purge-deleted", "--ini", str(path), "record", "60"]) == 0
    assert "Removed 1 change(s) of the change log" in capsys.readouterr().out
    assert [row[0] for row in client.execute("SELECT data->>'id' FROM changes")] == ["recent"]


def test_create_user_then_authenticate(ini, capsys):
    path, _client = ini
    text = path.read_text().replace("kinto.includes = ", "kinto.includes = kinto_server.plugins.accounts ", 1)
    policies = "kinto.multiauth.policies = "
    path.write_text(text.replace(policies + "basicauth", policies + "account basicauth"))
    assert cli.main(["create-user", "--ini", str(path), "-u", "admin", "-p", "s3cret"]) == 0
    assert "ready" in capsys.readouterr().out
    settings = {
        **BASE_SETTINGS,
        **settings_for("postgresql"),
        "kinto.includes": "kinto_server.plugins.accounts",
        "kinto.multiauth.policies": "account",
    }
    app = TestApp(main({}, **settings))
    assert app.get("/v1/", headers=auth("admin", "s3cret")).json["user"]["id"] == "account:admin"
    assert cli.main(["create-user", "--ini", str(path), "-u", "admin", "-p", "changed"]) == 0
    assert app.get("/v1/", headers=auth("admin", "changed")).json["user"]["id"] == "account:admin"


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["create-user", "--ini", "missing.ini", "-u", "x", "-p", "y"], 1),
        (["purge-deleted", "--ini", "missing.ini", "record", "10"], 1),
        (["flush-cache", "--ini", "missing.ini"], 1),
    ],
)
def test_missing_ini_is_a_clear_error(argv, code, capsys):
    assert cli.main(argv) == code
    assert "No such configuration file" in capsys.readouterr().err


def test_invalid_username_and_negative_age(ini, capsys):
    path, _client = ini
    assert cli.main(["create-user", "--ini", str(path), "-u", "bad name", "-p", "x"]) == 2
    assert cli.main(["purge-deleted", "--ini", str(path), "record", "-5"]) == 2


def test_flush_cache(ini, capsys):
    path, client = ini
    client.execute("INSERT INTO cache VALUES ('k', '1', 9999999999)")
    assert cli.main(["flush-cache", "--ini", str(path)]) == 0
    assert client.execute("SELECT count(*) FROM cache") == [(0,)]
