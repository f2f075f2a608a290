import pytest

from tests.support import assert_error, auth

SETTINGS = {
    "kinto.includes": "kinto_server.plugins.default_bucket kinto_server.plugins.accounts",
    "kinto.multiauth.policies": "account basicauth",
    "kinto.account_write_principals": "account:admin",
    "kinto.account_hash_rounds": "4",
}
BOB = auth("bob", "s3cret")


@pytest.fixture
def app(make_app):
    app = make_app(**SETTINGS)
    app.put_json("/v1/accounts/bob", {"data": {"password": "s3cret"}}, status=201)
    return app


def test_created_account_authenticates_as_account_principal(app):
    user = app.get("/v1/", headers=BOB).json["user"]
    assert user["id"] == "account:bob"
    assert "accounts" in app.get("/v1/").json["capabilities"]


def test_password_is_never_echoed(app):
    response = app.put_json("/v1/accounts/alice", {"data": {"password": "pw", "name": "Alice"}}, status=201)
    assert response.json["data"] == {
        "id": "alice",
        "name": "Alice",
        "last_modified": response.json["data"]["last_modified"],
    }
    assert response.json["permissions"] == {"write": ["account:alice"]}
    assert "password" not in app.get("/v1/accounts/bob", headers=BOB).json["data"]
    assert "s3cret" not in app.get("/v1/accounts", headers=BOB).text


def test_password_is_stored_hashed(app):
    stored = app.app.registry.storage.get(resource_name="account", parent_id="", object_id="bob")
    assert stored["password"].startswith("$2b$") and "s3cret" not in stored["password"]


def test_wrong_password_falls_back_to_basicauth_user(app):
    user = app.get("/v1/", headers=auth("bob", "wrong")).json["user"]
    assert user["id"].startswith("basicauth:")


def test_password_change(app):
    app.patch_json("/v1/accounts/bob", {"data": {"password": "new"}}, headers=BOB, status=200)
    assert app.get("/v1/", headers=BOB).json["user"]["id"].startswith("basicauth:")
    assert app.get("/v1/", headers=auth("bob", "new")).json["user"]["id"] == "account:bob"


def test_users_manage_only_their_own_account(app):
    app.post_json("/v1/accounts", {"data": {"id": "carl", "password": "pw"}}, status=201)
    assert_error(app.get("/v1/accounts/carl", headers=BOB, status=403), 403, 121)
    assert_error(app.get("/v1/accounts/nobody", headers=BOB, status=403), 403, 121)
    assert_error(app.put_json("/v1/accounts/bob", {"data": {"password": "x"}}, status=401), 401, 104)
    assert [a["id"] for a in app.get("/v1/accounts", headers=BOB).json["data"]] == ["bob"]


def test_admins_manage_every_account(app):
    app.put_json("/v1/accounts/admin", {"data": {"password": "root"}}, status=201)
    admin = auth("admin", "root")
    assert sorted(a["id"] for a in app.get("/v1/accounts", headers=admin).json["data"]) == ["admin", "bob"]
    app.patch_json("/v1/accounts/bob", {"data": {"password": "reset"}}, headers=admin, status=200)
    app.post_json("/v1/accounts", {"data": {"id": "dave", "password": "pw"}}, headers=admin, status=201)
    assert_error(app.get("/v1/accounts/missing", headers=admin, status=404), 404, 110)
    app.delete("/v1/accounts/dave", headers=admin, status=200)


@pytest.mark.parametrize(
    ("body", "headers", "name"),
    [
        ({"data": {"password": "pw"}}, {}, "data.id"),
        ({"data": {"id": "dave", "password": "pw"}}, BOB, "data.id"),
        ({"data": {"password": "pw"}}, BOB, "data.id"),
        ({"data": {"id": "eve"}}, {}, "data.password"),
        ({"data": {"id": "eve", "password": ""}}, {}, "data.password"),
        ({"data": {"id": "e ve", "password": "x"}}, {}, None),  # Kinto's "path: Invalid object id".
        ({"data": {"id": "bob", "password": "x"}}, BOB, "data.id"),  # Its owner learns it exists.
    ],
)
def test_invalid_account_creations_are_400(app, body, headers, name):
    response = app.post_json("/v1/accounts", body, headers=headers, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == name


def test_create_principals_setting(make_app):
    app = make_app(**{**SETTINGS, "kinto.account_create_principals": "account:admin"})
    assert_error(app.put_json("/v1/accounts/x", {"data": {"password": "p"}}, status=401), 401, 104)


def test_deleted_account_no_longer_authenticates(app):
    app.delete("/v1/accounts/bob", headers=BOB, status=200)
    assert app.get("/v1/", headers=BOB).json["user"]["id"].startswith("basicauth:")


def test_accounts_own_data_in_buckets(app):
    app.put("/v1/buckets/bobs", headers=BOB, status=201)
    assert app.get("/v1/buckets/bobs", headers=BOB).json["permissions"] == {"write": ["account:bob"]}


def test_account_only_policy_rejects_unknown_users(make_app):
    app = make_app(**{**SETTINGS, "kinto.multiauth.policies": "account"})
    app.put_json("/v1/accounts/bob", {"data": {"password": "s3cret"}}, status=201)
    assert "user" not in app.get("/v1/", headers=auth("bob", "wrong")).json
    assert app.get("/v1/", headers=BOB).json["user"]["id"] == "account:bob"


def test_null_character_in_username_is_not_an_account(app):
    user = app.get("/v1/", headers=auth("bo\x00b", "s3cret")).json["user"]
    assert user["id"].startswith("basicauth:")
