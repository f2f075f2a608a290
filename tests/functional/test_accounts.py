import json

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


@pytest.fixture
def admin(app):
    app.put_json("/v1/accounts/admin", {"data": {"password": "root"}}, status=201)
    return auth("admin", "root")


def test_an_account_body_may_share_the_account_and_its_owner_keeps_write(app):
    response = app.patch_json(
        "/v1/accounts/bob", {"permissions": {"read": ["system.Everyone"], "write": []}}, headers=BOB, status=200
    )
    assert response.json["permissions"] == {"read": ["system.Everyone"], "write": ["account:bob"]}
    shown = app.get("/v1/accounts/bob", status=200).json  # Shared: anyone may read it, never its password.
    assert shown["data"]["id"] == "bob" and "password" not in shown["data"]
    assert_error(app.patch_json("/v1/accounts/bob", {"data": {"x": 1}}, status=401), 401, 104)


def test_account_permissions_are_read_and_write_only(app):
    response = app.patch_json("/v1/accounts/bob", {"permissions": {"frob": []}}, headers=BOB, status=400)
    assert assert_error(response, 400, 107)["message"] == 'permissions in body: "frob" is not one of read, write'


def test_a_put_replaces_an_accounts_permissions_but_not_its_owner(app, admin):
    app.patch_json("/v1/accounts/bob", {"permissions": {"read": ["system.Everyone"]}}, headers=BOB)
    body = {"data": {"password": "s3cret"}, "permissions": {"write": ["account:admin"]}}
    response = app.put_json("/v1/accounts/bob", body, headers=admin, status=200)
    assert response.json["permissions"] == {"write": ["account:admin", "account:bob"]}


@pytest.mark.parametrize(
    ("method", "password", "name", "description"),
    [
        ("put", 3, "data.password", "3 is not a string: {'password': ''}"),
        ("put", [1], "data.password", "[1] is not a string: {'password': ''}"),
        ("put", None, "data.password", "Required"),
        ("patch", True, "password", "True is not a string: {'password': ''}"),
        ("patch", "", "password", "Required"),
    ],
)
def test_a_password_that_is_not_a_string_is_a_400_in_kintos_words(app, method, password, name, description):
    call = getattr(app, f"{method}_json")
    response = call("/v1/accounts/bob", {"data": {"password": password}}, headers=BOB, status=400)
    assert assert_error(response, 400, 107)["details"] == [
        {"location": "body", "name": name, "description": description}
    ]


def test_an_account_accepts_the_patch_formats(app):
    operations = [{"op": "add", "path": "/data/nick", "value": "b"}]
    response = app.patch(
        "/v1/accounts/bob",
        json.dumps(operations),
        headers={**BOB, "Content-Type": "application/json-patch+json"},
        status=200,
    )
    assert response.json["data"]["nick"] == "b"
    merge = {"data": {"nick": None}}
    response = app.patch(
        "/v1/accounts/bob", json.dumps(merge), headers={**BOB, "Content-Type": "application/merge-patch+json"}
    )
    assert "nick" not in response.json["data"]
    assert app.get("/v1/", headers=BOB).json["user"]["id"] == "account:bob"  # The password is kept.


def test_the_accounts_list_is_counted_projected_and_synced(app, admin):
    head = app.head("/v1/accounts", headers=admin, status=200)
    assert head.headers["Total-Objects"] == head.headers["Total-Records"] == "2"
    assert app.head("/v1/accounts", headers=BOB).headers["Total-Objects"] == "1"
    app.patch_json("/v1/accounts/bob", {"data": {"nick": "b"}}, headers=BOB)
    listing = app.get("/v1/accounts?_fields=nick&_sort=id", headers=admin)
    assert [sorted(a) for a in listing.json["data"]] == [["id", "last_modified"], ["id", "last_modified", "nick"]]
    etag = listing.headers["ETag"]
    assert etag == f'"{max(a["last_modified"] for a in listing.json["data"])}"'

    app.get("/v1/accounts", headers={**admin, "If-None-Match": etag}, status=304)
    app.patch_json("/v1/accounts/bob", {"data": {"nick": "c"}}, headers=BOB)
    changed = app.get("/v1/accounts?_since=" + etag.strip('"'), headers={**admin, "If-None-Match": etag})
    assert [a["id"] for a in changed.json["data"]] == ["bob"]


def test_admins_delete_accounts_by_page_and_filter(app, admin):
    for name in ("carl", "dora"):
        app.put_json(f"/v1/accounts/{name}", {"data": {"password": "pw"}}, status=201)
    response = app.delete("/v1/accounts?id=carl", headers=admin, status=200)
    assert [t["id"] for t in response.json["data"]] == ["carl"] and response.json["data"][0]["deleted"]
    response = app.delete("/v1/accounts?_limit=1&_sort=id&in_id=bob,dora", headers=admin, status=200)
    assert [t["id"] for t in response.json["data"]] == ["bob"]
    assert "Next-Page" in response.headers
    assert sorted(a["id"] for a in app.get("/v1/accounts", headers=admin).json["data"]) == ["admin", "dora"]
    assert app.get("/v1/", headers=auth("carl", "pw")).json["user"]["id"].startswith("basicauth:")


def test_users_plural_delete_only_their_own_account(app):
    app.put_json("/v1/accounts/carl", {"data": {"password": "pw"}}, status=201)
    response = app.delete("/v1/accounts", headers=BOB, status=200)
    assert [t["id"] for t in response.json["data"]] == ["bob"]
    assert app.get("/v1/accounts/carl", headers=auth("carl", "pw"), status=200)
    assert_error(app.delete("/v1/accounts", status=401), 401, 104)
