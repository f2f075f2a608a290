"""Authorization bypasses: what a user allowed only to create, or nothing at
all, can learn or take through every write path."""

import pytest

from kinto_server.storage import ObjectExistsError
from tests.support import ALICE, BOB, assert_error, auth, user_id

# (plural URL where bob may create, id of an object alice keeps to herself there)
CREATE_ONLY = [
    ("/v1/buckets", "private"),
    ("/v1/buckets/shared/collections/inbox/records", "sec0"),
    ("/v1/buckets/shared/groups", "staff"),
]


@pytest.mark.parametrize(("plural", "object_id"), CREATE_ONLY)
def test_post_with_an_existing_id_does_not_reveal_an_unreadable_object(app, plural, object_id):
    response = app.post_json(plural, {"data": {"id": object_id}}, headers=BOB, status=403)
    assert_error(response, 403, 121)
    assert "secret" not in response.text and "alice" not in response.text


@pytest.mark.parametrize(("plural", "object_id"), CREATE_ONLY)
def test_post_with_an_existing_id_returns_the_object_to_a_reader(app, plural, object_id):
    app.patch_json(f"{plural}/{object_id}", {"permissions": {"read": [user_id("bob")]}}, headers=ALICE)
    response = app.post_json(plural, {"data": {"id": object_id}}, headers=BOB, status=200)
    assert response.json["data"]["id"] == object_id


def test_post_with_an_existing_id_in_a_batch_is_refused_too(app):
    body = {"requests": [{"method": "POST", "path": "/buckets", "body": {"data": {"id": "private"}}}]}
    answer = app.post_json("/v1/batch", body, headers=BOB).json["responses"][0]
    assert answer["status"] == 403
    assert "secret" not in str(answer["body"])


@pytest.mark.parametrize(
    "url",
    ["/v1/buckets/private", "/v1/buckets/shared/collections/inbox/records/sec0", "/v1/buckets/shared/groups/staff"],
)
def test_a_412_shows_the_existing_object_only_to_readers(app, url):
    headers = {**BOB, "If-None-Match": "*"}
    response = app.put_json(url, {"data": {}}, headers=headers, status=412)
    assert_error(response, 412, 114)
    assert "existing" not in (response.json.get("details") or {})
    assert "ETag" not in response.headers
    assert "secret" not in response.text and "alice" not in response.text
    # Alice, who may read it, still gets the current version to merge with.
    mine = app.put_json(url, {"data": {}}, headers={**ALICE, "If-None-Match": "*"}, status=412)
    assert mine.json["details"]["existing"]["id"] == url.rsplit("/", 1)[1]


def test_a_recreated_group_does_not_inherit_the_old_groups_access(app):
    # Alice shares her collection with the staff group of the open bucket, then deletes the group.
    app.patch_json(
        "/v1/buckets/private/collections/c",
        {"permissions": {"read": ["/buckets/shared/groups/staff"]}},
        headers=ALICE,
    )
    app.delete("/v1/buckets/shared/groups/staff", headers=ALICE)
    # Bob, who may create groups there, creates one of the same name with himself in it.
    app.put_json("/v1/buckets/shared/groups/staff", {"data": {"members": [user_id("bob")]}}, headers=BOB)
    app.get("/v1/buckets/private/collections/c/records/sec0", headers=BOB, status=403)
    acl = app.get("/v1/buckets/private/collections/c", headers=ALICE).json["permissions"]
    assert "/buckets/shared/groups/staff" not in acl.get("read", [])


def test_a_deleted_buckets_groups_lose_their_access_elsewhere(app):
    app.put_json("/v1/buckets/bobs", headers=BOB)
    app.put_json("/v1/buckets/bobs/groups/g", {"data": {"members": [user_id("bob")]}}, headers=BOB)
    app.patch_json("/v1/buckets/private", {"permissions": {"read": ["/buckets/bobs/groups/g"]}}, headers=ALICE)
    app.delete("/v1/buckets/bobs", headers=BOB)
    acl = app.get("/v1/buckets/private", headers=ALICE).json["permissions"]
    assert "/buckets/bobs/groups/g" not in acl.get("read", [])


def test_a_recreated_account_does_not_inherit_the_old_accounts_access(app):
    dave = auth("dave", "first")
    app.put_json("/v1/accounts/dave", {"data": {"password": "first"}}, status=201)
    app.patch_json("/v1/buckets/private", {"permissions": {"read": ["account:dave"]}}, headers=ALICE)
    app.get("/v1/buckets/private", headers=dave, status=200)
    app.delete("/v1/accounts/dave", headers=dave)
    app.put_json("/v1/accounts/dave", {"data": {"password": "second"}}, status=201)
    app.get("/v1/buckets/private", headers=auth("dave", "second"), status=403)


def test_account_ids_cannot_be_enumerated_anonymously(app):
    app.put_json("/v1/accounts/carol", {"data": {"password": "pw"}}, status=201)
    taken = app.post_json("/v1/accounts", {"data": {"id": "carol", "password": "x"}}, expect_errors=True)
    free = app.post_json("/v1/accounts", {"data": {"id": "nobody", "password": "x"}}, expect_errors=True)
    assert taken.status_code == 401
    assert "exists" not in taken.text
    assert free.status_code == 201


def test_a_default_bucket_created_by_someone_else_is_not_served(app):
    # Mallory computes Bob's default bucket id and creates it first.
    bob_bucket = app.get("/v1/", headers=BOB).json["user"]["bucket"]
    app.put_json(f"/v1/buckets/{bob_bucket}", {"permissions": {"read": ["system.Everyone"]}}, headers=auth("mallory"))
    response = app.put_json("/v1/buckets/default/collections/tasks", headers=BOB, status=403)
    assert_error(response, 403, 121)
    app.get(f"/v1/buckets/{bob_bucket}/collections", headers=auth("mallory"), status=200)
    assert app.get(f"/v1/buckets/{bob_bucket}/collections", headers=auth("mallory")).json["data"] == []


def test_an_object_created_meanwhile_by_someone_else_is_neither_shown_nor_replaced(app, monkeypatch):
    registry = app.app.registry
    theirs = {"id": "race", "secret": "theirs", "last_modified": 1}

    def created_meanwhile(**kwargs):
        raise ObjectExistsError(dict(theirs))

    monkeypatch.setattr(registry.storage, "create", created_meanwhile)
    monkeypatch.setattr(registry.combined, "create", created_meanwhile)
    url = "/v1/buckets/shared/collections/inbox/records"
    answers = [
        app.post_json(url, {"data": {"id": "race"}}, headers=BOB, expect_errors=True),
        app.put_json(f"{url}/race", {"data": {"mine": 1}}, headers=BOB, expect_errors=True),
        app.put_json(f"{url}/race", {"data": {}}, headers={**BOB, "If-None-Match": "*"}, expect_errors=True),
    ]
    assert [a.status_code for a in answers] == [403, 403, 412]
    assert all("theirs" not in a.text for a in answers)
    assert "ETag" not in answers[2].headers
