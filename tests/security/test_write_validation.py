"""What is stored is valid whatever the write path: PUT, PATCH with each of
the three formats, POST and batch all check the object that results."""

import pytest

from tests.support import ALICE, BOB, assert_error, user_id

GROUP = "/v1/buckets/shared/groups/staff"
PRIVATE_RECORDS = "/v1/buckets/private/collections/c/records"

BAD_MEMBERS = ["system.Everyone", "/buckets/shared/groups/other", {"a": 1}, 3, None, "eve\n", "a\x01b"]


def _writes_setting_members(member):
    """(method, body, content type) of every way to put ``member`` in a group."""
    return [
        ("PUT", {"data": {"members": [member]}}, "application/json"),
        ("PATCH", {"data": {"members": [member]}}, "application/json"),
        ("PATCH", {"data": {"members": [member]}}, "application/merge-patch+json"),
        ("PATCH", [{"op": "add", "path": "/data/members/-", "value": member}], "application/json-patch+json"),
        ("PATCH", [{"op": "replace", "path": "/data/members", "value": [member]}], "application/json-patch+json"),
        ("PATCH", [{"op": "replace", "path": "/data/members", "value": member}], "application/json-patch+json"),
    ]


@pytest.mark.parametrize("member", BAD_MEMBERS, ids=repr)
def test_invalid_group_members_are_refused_on_every_write_path(app, member):
    for method, body, content_type in _writes_setting_members(member):
        response = app.request(
            GROUP, method=method, json=body, headers={**ALICE, "Content-Type": content_type}, expect_errors=True
        )
        assert_error(response, 400, 107)
    # The group is intact and still works.
    group = app.get(GROUP, headers=ALICE).json["data"]
    assert group["members"] == ["alice"]
    app.put_json(GROUP, {"data": {"members": [user_id("bob")]}}, headers=ALICE, status=200)


def test_invalid_group_members_are_refused_in_batch_and_on_post(app):
    body = {"data": {"id": "new", "members": ["system.Everyone"]}}
    assert_error(app.post_json("/v1/buckets/shared/groups", body, headers=ALICE, status=400), 400, 107)
    batch = {
        "requests": [
            {
                "method": "PATCH",
                "path": "/buckets/shared/groups/staff",
                "headers": {"Content-Type": "application/merge-patch+json"},
                "body": {"data": {"members": ["alice", "system.Everyone"]}},
            }
        ]
    }
    answer = app.post_json("/v1/batch", batch, headers=ALICE).json["responses"][0]
    assert answer["status"] == 400
    assert app.get(GROUP, headers=ALICE).json["data"]["members"] == ["alice"]


def test_json_patch_cannot_open_a_collection_to_everyone_through_a_group(app):
    app.patch_json("/v1/buckets/private/collections/c", {"permissions": {"read": [GROUP[3:]]}}, headers=ALICE)
    operations = [{"op": "add", "path": "/data/members/-", "value": "system.Everyone"}]
    app.patch_json(GROUP, operations, headers={**ALICE, "Content-Type": "application/json-patch+json"}, status=400)
    app.get(f"{PRIVATE_RECORDS}/sec0", status=401)


@pytest.mark.parametrize("principal", ["bob\n", "a\tb", "x\x7f", "", 3, ["nested"]], ids=repr)
def test_principals_with_control_characters_are_refused_on_every_write_path(app, principal):
    url = f"{PRIVATE_RECORDS}/sec0"
    for method, body, content_type in [
        ("PUT", {"data": {}, "permissions": {"read": [principal]}}, "application/json"),
        ("PATCH", {"permissions": {"read": [principal]}}, "application/json"),
        ("PATCH", {"permissions": {"read": [principal]}}, "application/merge-patch+json"),
        ("PATCH", [{"op": "add", "path": "/permissions/read", "value": {"x": True, str(principal): True}}], None),
        ("PATCH", [{"op": "add", "path": f"/permissions/read/{principal}"}], None),
    ]:
        if not isinstance(principal, str) and content_type is None:
            continue  # JSON Patch names principals in pointers and keys: strings.
        headers = {**ALICE, "Content-Type": content_type or "application/json-patch+json"}
        response = app.request(url, method=method, json=body, headers=headers, expect_errors=True)
        assert_error(response, 400, 107)
    assert app.get(url, headers=ALICE).json["permissions"] == {"write": [user_id("alice")]}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/buckets/private%0A",
        "/v1/buckets/private/collections/c%0A",
        "/v1/buckets/shared/collections/inbox/records/r%0A",
    ],
)
def test_ids_with_a_trailing_newline_are_refused(app, path):
    assert_error(app.put_json(path, {"data": {}}, headers=BOB, expect_errors=True), 400, 107)


def test_ids_with_a_trailing_newline_are_refused_in_bodies(app):
    response = app.post_json("/v1/buckets", {"data": {"id": "private\n"}}, headers=BOB, status=400)
    assert_error(response, 400, 107)


@pytest.mark.parametrize("account_id", ["dave\n", "da\tve", "dave\x7f"], ids=repr)
def test_account_ids_with_control_characters_are_refused(app, account_id):
    body = {"data": {"id": account_id, "password": "pw"}}
    assert_error(app.post_json("/v1/accounts", body, status=400), 400, 107)


@pytest.mark.parametrize("value", [100000000000000000000, 2**63, 10**15, "x", 1.5, True])
def test_an_insane_last_modified_is_refused_and_leaves_the_collection_working(app, value):
    url = "/v1/buckets/shared/collections/inbox/records/bob1"
    response = app.put_json(url, {"data": {"last_modified": value}}, headers=BOB, expect_errors=True)
    assert_error(response, 400, 107)
    app.get(url, headers=BOB, status=403)  # Not stored: no write permission on a missing record.
    listing = app.get("/v1/buckets/shared/collections/inbox/records", headers=ALICE)
    assert [r["id"] for r in listing.json["data"]] == ["sec0"]
    app.post_json("/v1/buckets/shared/collections/inbox/records", {"data": {}}, headers=BOB, status=201)


def test_a_last_modified_in_the_near_future_is_kept_as_kinto_does(app):
    url = "/v1/buckets/shared/collections/inbox/records/later"
    current = app.get("/v1/buckets/shared/collections/inbox/records", headers=ALICE).headers["ETag"].strip('"')
    wanted = int(current) + 3_600_000
    stored = app.put_json(url, {"data": {"last_modified": wanted}}, headers=BOB, status=201).json["data"]
    assert stored["last_modified"] == wanted


def test_an_old_last_modified_gets_a_server_timestamp(app):
    url = "/v1/buckets/shared/collections/inbox/records/old"
    stored = app.put_json(url, {"data": {"last_modified": -1}}, headers=BOB, status=201).json["data"]
    assert stored["last_modified"] > 1_700_000_000_000
