import pytest

from tests.support import (
    ALICE,
    BOB,
    MARY,
    assert_error,
    create_bucket,
    create_collection,
    create_record,
    records_url,
    user_id,
)


@pytest.fixture
def app(app):
    create_bucket(app)
    create_collection(app)
    return app


def test_record_create_permission_lets_authenticated_users_post(app):
    app.patch_json(
        "/v1/buckets/b/collections/c", {"permissions": {"record:create": ["system.Authenticated"]}}, headers=ALICE
    )
    record = create_record(app, {"by": "bob"}, headers=BOB)
    assert app.get(f"{records_url()}/{record['id']}", headers=BOB).json["permissions"] == {"write": [user_id("bob")]}
    assert_error(app.post_json(records_url(), {"data": {}}, status=401), 401, 104)


def test_list_shows_only_records_shared_with_the_user(app):
    app.patch_json(
        "/v1/buckets/b/collections/c", {"permissions": {"record:create": ["system.Authenticated"]}}, headers=ALICE
    )
    alice_private = create_record(app, {"who": "alice-private"})
    alice_shared = create_record(app, {"who": "alice-shared"}, permissions={"read": [user_id("bob")]})
    bob_own = create_record(app, {"who": "bob"}, headers=BOB)
    listed = app.get(records_url(), headers=BOB)
    assert sorted(r["id"] for r in listed.json["data"]) == sorted([alice_shared["id"], bob_own["id"]])
    assert app.head(records_url(), headers=BOB).headers["Total-Records"] == "2"
    assert len(app.get(records_url(), headers=ALICE).json["data"]) == 3
    assert alice_private["id"] not in [r["id"] for r in listed.json["data"]]


def test_list_without_any_access_is_403_or_401(app):
    assert_error(app.get(records_url(), headers=BOB, status=403), 403, 121)
    assert_error(app.get(records_url(), status=401), 401, 104)


def test_record_shared_with_everyone_is_readable_anonymously(app):
    record = create_record(app, {"a": 1}, permissions={"read": ["system.Everyone"]})
    response = app.get(f"{records_url()}/{record['id']}")
    assert response.json["data"]["a"] == 1
    assert response.json["permissions"] == {}


def test_bucket_read_is_inherited_by_collections_and_records(app):
    record = create_record(app, {"a": 1})
    app.patch_json("/v1/buckets/b", {"permissions": {"read": [user_id("bob")]}}, headers=ALICE)
    app.get("/v1/buckets/b/collections/c", headers=BOB, status=200)
    app.get(f"{records_url()}/{record['id']}", headers=BOB, status=200)
    assert_error(app.delete(f"{records_url()}/{record['id']}", headers=BOB, status=403), 403, 121)


def test_collection_write_is_inherited_by_records(app):
    record = create_record(app, {"a": 1})
    app.patch_json("/v1/buckets/b/collections/c", {"permissions": {"write": [user_id("bob")]}}, headers=ALICE)
    app.patch_json(f"{records_url()}/{record['id']}", {"data": {"b": 2}}, headers=BOB, status=200)


def test_reader_of_parent_gets_404_for_missing_record_on_delete(app):
    app.patch_json("/v1/buckets/b/collections/c", {"permissions": {"read": [user_id("bob")]}}, headers=ALICE)
    assert_error(app.delete(f"{records_url()}/missing", headers=BOB, status=404), 404, 110)
    assert_error(app.get(f"{records_url()}/missing", headers=BOB, status=404), 404, 110)


def test_stranger_gets_403_for_missing_and_existing_records_alike(app):
    record = create_record(app, {"a": 1})
    for url in (f"{records_url()}/{record['id']}", f"{records_url()}/missing"):
        assert_error(app.get(url, headers=MARY, status=403), 403, 121)
        assert_error(app.delete(url, headers=MARY, status=403), 403, 121)
        assert_error(app.get(url, status=401), 401, 104)


def test_put_on_existing_record_needs_write_not_create(app):
    record = create_record(app, {"a": 1})
    app.patch_json("/v1/buckets/b/collections/c", {"permissions": {"record:create": [user_id("bob")]}}, headers=ALICE)
    url = f"{records_url()}/{record['id']}"
    assert_error(app.put_json(url, {"data": {"b": 1}}, headers=BOB, status=403), 403, 121)
    app.put_json(f"{records_url()}/bobs", {"data": {"b": 1}}, headers=BOB, status=201)


def test_permissions_shown_only_to_writers(app):
    record = create_record(app, {"a": 1}, permissions={"read": [user_id("bob")]})
    url = f"{records_url()}/{record['id']}"
    assert app.get(url, headers=BOB).json["permissions"] == {}
    assert app.get(url, headers=ALICE).json["permissions"] == {"read": [user_id("bob")], "write": [user_id("alice")]}


def test_put_replaces_all_permissions_but_keeps_the_writer(app):
    record = create_record(app, {"a": 1}, permissions={"read": [user_id("bob")]})
    url = f"{records_url()}/{record['id']}"
    response = app.put_json(url, {"data": {}, "permissions": {"write": [user_id("mary")]}}, headers=ALICE)
    assert response.json["permissions"] == {"write": sorted([user_id("alice"), user_id("mary")])}


def test_patch_replaces_only_sent_permissions(app):
    record = create_record(app, {"a": 1}, permissions={"read": [user_id("bob")]})
    url = f"{records_url()}/{record['id']}"
    response = app.patch_json(url, {"permissions": {"write": [user_id("mary")]}}, headers=ALICE)
    assert response.json["permissions"]["read"] == [user_id("bob")]
    assert response.json["permissions"]["write"] == sorted([user_id("alice"), user_id("mary")])


def test_bucket_create_principals_setting(make_app):
    app = make_app(**{"kinto.bucket_create_principals": user_id("alice")})
    app.put("/v1/buckets/mine", headers=ALICE, status=201)
    assert_error(app.put("/v1/buckets/other", headers=BOB, status=403), 403, 121)


def test_inherited_writers_do_not_see_object_permissions(app):
    app.patch_json(
        "/v1/buckets/b/collections/c", {"permissions": {"record:create": ["system.Authenticated"]}}, headers=ALICE
    )
    record = create_record(app, {"a": 1}, headers=BOB, permissions={"read": [user_id("alice")]})
    response = app.get(f"{records_url()}/{record['id']}", headers=ALICE)
    assert response.json["permissions"] == {}
    assert app.get(f"{records_url()}/{record['id']}", headers=BOB).json["permissions"]["write"] == [user_id("bob")]


def test_collections_where_user_may_create_records_are_listed(app):
    app.patch_json("/v1/buckets/b/collections/c", {"permissions": {"record:create": [user_id("bob")]}}, headers=ALICE)
    app.put("/v1/buckets/b/collections/private", headers=ALICE)
    data = app.get("/v1/buckets/b/collections", headers=BOB).json["data"]
    assert [c["id"] for c in data] == ["c"]


def test_forbidden_message_is_kintos(app):
    body = assert_error(app.get("/v1/buckets/b", headers=BOB, status=403), 403, 121)
    assert body["message"] == "This user cannot access this resource."
    assert "info" not in body


def test_editing_without_permission_changes_writes_no_ace(app, monkeypatch):
    record = create_record(app, {"a": 1})
    calls = []
    permission = app.app.registry.permission
    original = permission.replace_object_permissions
    monkeypatch.setattr(permission, "replace_object_permissions", lambda **kw: (calls.append(kw), original(**kw))[1])
    url = f"{records_url()}/{record['id']}"
    app.patch_json(url, {"data": {"a": 2}}, headers=ALICE)
    assert calls == []
    app.patch_json(url, {"permissions": {"read": [user_id("bob")]}}, headers=ALICE)
    assert len(calls) == 1
    app.get(url, headers=BOB, status=200)
