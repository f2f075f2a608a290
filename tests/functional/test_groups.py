import pytest

from tests.support import ALICE, BOB, MARY, assert_error, create_bucket, create_collection, create_record, user_id


def test_group_members_default_to_empty_list(app):
    create_bucket(app)
    response = app.put("/v1/buckets/b/groups/g", headers=ALICE, status=201)
    assert response.json["data"]["members"] == []


def test_group_members_must_be_a_list_of_strings(app):
    create_bucket(app)
    body = assert_error(
        app.put_json("/v1/buckets/b/groups/g", {"data": {"members": "bob"}}, headers=ALICE, status=400), 400, 107
    )
    assert body["details"][0]["name"].startswith("data.members")


def test_group_members_gain_the_group_principal(app):
    create_bucket(app)
    app.put_json("/v1/buckets/b/groups/friends", {"data": {"members": [user_id("bob")]}}, headers=ALICE)
    principals = app.get("/v1/", headers=BOB).json["user"]["principals"]
    assert "/buckets/b/groups/friends" in principals


def test_sharing_with_a_group_gives_access_to_members_only(app):
    create_bucket(app)
    create_collection(app)
    record = create_record(app, {"secret": 1})
    url = f"/v1/buckets/b/collections/c/records/{record['id']}"
    app.put_json("/v1/buckets/b/groups/friends", {"data": {"members": [user_id("bob")]}}, headers=ALICE)
    app.patch_json(url, {"permissions": {"read": ["/buckets/b/groups/friends"]}}, headers=ALICE)
    assert app.get(url, headers=BOB).json["data"]["secret"] == 1
    assert_error(app.get(url, headers=MARY, status=403), 403, 121)


def test_removing_a_member_revokes_access_immediately(app):
    create_bucket(app)
    app.put_json("/v1/buckets/b/groups/readers", {"data": {"members": [user_id("bob")]}}, headers=ALICE)
    app.patch_json("/v1/buckets/b", {"permissions": {"read": ["/buckets/b/groups/readers"]}}, headers=ALICE)
    app.get("/v1/buckets/b", headers=BOB, status=200)
    app.put_json("/v1/buckets/b/groups/readers", {"data": {"members": []}}, headers=ALICE)
    app.get("/v1/buckets/b", headers=BOB, status=403)


def test_deleting_a_group_revokes_its_principal(app):
    create_bucket(app)
    app.put_json("/v1/buckets/b/groups/readers", {"data": {"members": [user_id("bob")]}}, headers=ALICE)
    app.patch_json("/v1/buckets/b", {"permissions": {"read": ["/buckets/b/groups/readers"]}}, headers=ALICE)
    app.delete("/v1/buckets/b/groups/readers", headers=ALICE)
    app.get("/v1/buckets/b", headers=BOB, status=403)
    assert "/buckets/b/groups/readers" not in app.get("/v1/", headers=BOB).json["user"]["principals"]


def test_deleting_the_bucket_revokes_its_groups_principals(app):
    create_bucket(app)
    app.put_json("/v1/buckets/b/groups/g", {"data": {"members": [user_id("bob")]}}, headers=ALICE)
    app.delete("/v1/buckets/b", headers=ALICE)
    assert "/buckets/b/groups/g" not in app.get("/v1/", headers=BOB).json["user"]["principals"]


def test_list_groups(app):
    create_bucket(app)
    app.put("/v1/buckets/b/groups/g1", headers=ALICE)
    app.post_json("/v1/buckets/b/groups", {"data": {"id": "g2", "members": ["x"]}}, headers=ALICE, status=201)
    data = app.get("/v1/buckets/b/groups", headers=ALICE).json["data"]
    assert [g["id"] for g in data] == ["g2", "g1"]


def test_group_create_permission_lets_others_create_groups(app):
    create_bucket(app, permissions={"group:create": ["system.Authenticated"]})
    app.put("/v1/buckets/b/groups/bobs", headers=BOB, status=201)
    assert_error(app.put("/v1/buckets/b/groups/other", status=401), 401, 104)


def test_patching_a_group_keeps_its_members(app):
    create_bucket(app)
    app.put_json("/v1/buckets/b/groups/g", {"data": {"members": ["x"]}}, headers=ALICE)
    response = app.patch_json("/v1/buckets/b/groups/g", {"data": {"title": "G"}}, headers=ALICE)
    assert response.json["data"]["members"] == ["x"]


@pytest.mark.parametrize("member", ["system.Everyone", "/buckets/b/groups/other", ""])
def test_invalid_group_members_are_400(app, member):
    create_bucket(app)
    response = app.put_json("/v1/buckets/b/groups/g", {"data": {"members": [member]}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "data.members.0"


def test_a_json_patch_removing_members_leaves_an_empty_list(app):
    create_bucket(app)
    app.put_json("/v1/buckets/b/groups/g", {"data": {"members": [user_id("bob")]}}, headers=ALICE)
    headers = {**ALICE, "Content-Type": "application/json-patch+json"}
    response = app.patch_json("/v1/buckets/b/groups/g", [{"op": "remove", "path": "/data/members"}], headers=headers)
    assert response.json["data"]["members"] == []
    assert "/buckets/b/groups/g" not in app.get("/v1/", headers=BOB).json["user"]["principals"]
