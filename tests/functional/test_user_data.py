"""DELETE /v1/__user_data__/{principal}: a principal's data goes, in one transaction."""

import pytest

from tests.support import ALICE, BOB, MARY, assert_error, auth, user_id

ADMIN = auth("admin")
SETTINGS = {
    "kinto.includes": "kinto_server.plugins.history kinto_server.plugins.accounts",
    "kinto.multiauth.policies": "account basicauth",
    "kinto.account_create_principals": "system.Everyone",
    "kinto.user-data_delete_principals": user_id("admin"),
}
BOB_ID = user_id("bob")


@pytest.fixture
def app(make_app):
    app = make_app(**SETTINGS)
    # Bob's own bucket, shared for reading with alice.
    app.put_json("/v1/buckets/bobs", {"permissions": {"read": [user_id("alice")]}}, headers=BOB)
    app.put("/v1/buckets/bobs/collections/c", headers=BOB)
    app.put_json("/v1/buckets/bobs/collections/c/records/r", {"data": {}}, headers=BOB)
    # Alice's bucket, where bob writes too, and what bob made there.
    app.put_json("/v1/buckets/shared", {"permissions": {"write": [BOB_ID], "read": [BOB_ID]}}, headers=ALICE)
    app.put("/v1/buckets/shared/collections/bobs-own", headers=BOB)
    app.put_json("/v1/buckets/shared/groups/g", {"data": {"members": [BOB_ID, user_id("alice")]}}, headers=ALICE)
    app.put_json("/v1/buckets/shared/collections/alices", {"permissions": {"read": [BOB_ID]}}, headers=ALICE)
    app.put_json("/v1/buckets/shared/collections/alices/records/x", {"permissions": {"write": [BOB_ID]}}, headers=ALICE)
    return app


def test_only_the_configured_principals_may_delete_user_data(app):
    url = f"/v1/__user_data__/{BOB_ID}"
    assert_error(app.delete(url, status=401), 401, 104)
    assert_error(app.delete(url, headers=ALICE, status=403), 403, 121)
    assert_error(app.delete(url, headers=BOB, status=403), 403, 121)
    assert_error(app.get(url, headers=ADMIN, status=405), 405, 115)
    assert_error(app.delete("/v1/__user_data__", headers=ADMIN, status=405), 405, 115)
    assert app.get("/v1/buckets/bobs", headers=BOB).status_code == 200  # Nothing happened.


def test_nobody_may_delete_user_data_by_default(make_app):
    app = make_app(**{**SETTINGS, "kinto.user-data_delete_principals": ""})
    assert_error(app.delete(f"/v1/__user_data__/{BOB_ID}", headers=ADMIN, status=403), 403, 121)


def test_what_only_the_principal_writes_is_deleted_with_what_it_holds(app):
    response = app.delete(f"/v1/__user_data__/{BOB_ID}", headers=ADMIN)
    assert response.json == {"data": {"principal": BOB_ID}}
    assert_error(app.get("/v1/buckets/bobs", headers=ALICE, status=403), 403, 121)
    assert [b["id"] for b in app.get("/v1/buckets", headers=ALICE).json["data"]] == ["shared"]
    collections = app.get("/v1/buckets/shared/collections?_since=0", headers=ALICE).json["data"]
    deleted = [c for c in collections if c.get("deleted")]
    assert [c["id"] for c in deleted] == ["bobs-own"]  # A tombstone, for syncing clients.
    # Bob can create a bucket of that name again: nothing of it is left.
    app.put("/v1/buckets/bobs", headers=MARY)
    assert app.get("/v1/buckets/bobs/collections", headers=MARY).json["data"] == []


def test_bob_is_removed_from_everything_else(app):
    app.delete(f"/v1/__user_data__/{BOB_ID}", headers=ADMIN)
    shared = app.get("/v1/buckets/shared", headers=ALICE).json
    assert shared["permissions"] == {"write": [user_id("alice")]}
    alices = app.get("/v1/buckets/shared/collections/alices", headers=ALICE).json["permissions"]
    assert alices == {"write": [user_id("alice")]}
    record = app.get("/v1/buckets/shared/collections/alices/records/x", headers=ALICE).json["permissions"]
    assert record == {"write": [user_id("alice")]}
    group = app.get("/v1/buckets/shared/groups/g", headers=ALICE).json["data"]
    assert group["members"] == [user_id("alice")]
    # Bob, still able to authenticate with Basic Auth, has none of it.
    assert "/buckets/shared/groups/g" not in app.get("/v1/", headers=BOB).json["user"]["principals"]
    assert_error(app.get("/v1/buckets/shared", headers=BOB, status=403), 403, 121)
    assert app.get("/v1/buckets/shared/history", headers=BOB, status=403)


def test_the_deletions_and_the_group_change_are_in_the_history(app):
    app.delete(f"/v1/__user_data__/{BOB_ID}", headers=ADMIN)
    entries = app.get("/v1/buckets/shared/history", headers=ALICE).json["data"]
    newest = [(e["action"], e["uri"], e["user_id"]) for e in entries[:2]]
    assert sorted(newest) == [
        ("delete", "/buckets/shared/collections/bobs-own", user_id("admin")),
        ("update", "/buckets/shared/groups/g", user_id("admin")),
    ]


def test_an_account_is_deleted_with_its_data(app):
    app.post_json("/v1/accounts", {"data": {"id": "carl", "password": "carl-secret"}})
    carl = auth("carl", "carl-secret")
    app.put("/v1/buckets/carls", headers=carl)
    assert app.get("/v1/", headers=carl).json["user"]["id"] == "account:carl"
    app.delete("/v1/__user_data__/account:carl", headers=ADMIN)
    # The account is gone: the same credentials are now plain Basic Auth.
    assert app.get("/v1/", headers=carl).json["user"]["id"] == user_id("carl", "carl-secret")
    assert_error(app.get("/v1/buckets/carls", headers=ADMIN, status=403), 403, 121)
    app.post_json("/v1/accounts", {"data": {"id": "carl", "password": "new-carl-pw"}}, status=201)


def test_an_unknown_principal_has_nothing_to_delete(app):
    before = app.get("/v1/buckets/shared", headers=ALICE).json
    response = app.delete("/v1/__user_data__/nobody", headers=ADMIN)
    assert response.json == {"data": {"principal": "nobody"}}
    assert app.get("/v1/buckets/shared", headers=ALICE).json == before


def test_a_failure_midway_leaves_everything_as_it_was(app, monkeypatch):
    from kinto_server.views import user_data

    def failing(request, group_uri, principal):
        raise RuntimeError("the backend fell over")

    monkeypatch.setattr(user_data, "_leave_group", failing)
    app.delete(f"/v1/__user_data__/{BOB_ID}", headers=ADMIN, status=500)
    assert app.get("/v1/buckets/bobs/collections/c/records/r", headers=BOB).status_code == 200
    assert BOB_ID in app.get("/v1/buckets/shared", headers=ALICE).json["permissions"]["write"]
