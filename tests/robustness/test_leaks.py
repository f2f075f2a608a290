"""Permission leaks: what other users, anonymous callers and group members
can see on every read path, on every backend."""

import logging

import pytest

from tests.support import ALICE, BOB, MARY, SECRET, assert_error, auth, user_id

RECORDS = "/v1/buckets/b/collections/c/records"


@pytest.fixture
def app(make_app):
    app = make_app(
        **{
            "kinto.includes": "kinto_server.plugins.default_bucket kinto_server.plugins.history "
            "kinto_server.plugins.accounts",
            "kinto.multiauth.policies": "account basicauth",
            "kinto.account_hash_rounds": "4",
            "kinto.experimental_permissions_endpoint": "true",
        }
    )
    app.put("/v1/buckets/b", headers=ALICE)
    app.put_json(
        "/v1/buckets/b/collections/c", {"permissions": {"record:create": ["system.Authenticated"]}}, headers=ALICE
    )
    app.put_json(f"{RECORDS}/private", {"data": {"secret": "alice only"}}, headers=ALICE)
    app.put_json(f"{RECORDS}/shared", {"data": {"v": 1}, "permissions": {"read": [user_id("bob")]}}, headers=ALICE)
    app.put_json(f"{RECORDS}/bobs", {"data": {"v": 2}}, headers=BOB)
    return app


def test_objects_and_lists_show_only_what_is_readable(app):
    for headers, status in ((BOB, 403), (MARY, 403), ({}, 401)):
        assert app.get(f"{RECORDS}/private", headers=headers, status=status)
        assert app.head(f"{RECORDS}/private", headers=headers, status=status)
        assert app.get(f"{RECORDS}/missing", headers=headers, status=status)  # same answer: no existence leak
    assert sorted(r["id"] for r in app.get(RECORDS, headers=BOB).json["data"]) == ["bobs", "shared"]
    assert app.head(RECORDS, headers=BOB).headers["Total-Records"] == "2"
    assert app.get(f"{RECORDS}?secret=alice%20only", headers=BOB).json["data"] == []
    assert app.head(RECORDS, headers=MARY).headers["Total-Records"] == "0"


def test_since_never_reveals_unreadable_changes(app):
    since = app.get(RECORDS, headers=ALICE).headers["ETag"].strip('"')
    app.patch_json(f"{RECORDS}/private", {"data": {"secret": "changed"}}, headers=ALICE)
    app.delete(f"{RECORDS}/private", headers=ALICE)
    changes = app.get(f"{RECORDS}?_since={since}", headers=BOB).json["data"]
    assert "private" not in [c["id"] for c in changes]


def test_history_shows_only_entries_of_readable_objects(app):
    uris = {e["uri"] for e in app.get("/v1/buckets/b/history", headers=BOB).json["data"]}
    assert uris == {f"/buckets/b/collections/c/records/{i}" for i in ("shared", "bobs")}
    assert_error(app.get("/v1/buckets/b/history", status=401), 401, 104)


def test_permissions_endpoint_lists_only_the_callers_objects(app):
    uris = {e["uri"] for e in app.get("/v1/permissions", headers=BOB).json["data"]}
    assert "/buckets/b/collections/c/records/private" not in uris
    assert "/buckets/b" not in uris


def test_batch_subrequests_get_the_same_answers(app):
    body = {"requests": [{"path": f"{RECORDS[3:]}/private"}, {"path": RECORDS[3:]}]}
    responses = app.post_json("/v1/batch", body, headers=BOB).json["responses"]
    assert responses[0]["status"] == 403
    assert sorted(r["id"] for r in responses[1]["body"]["data"]) == ["bobs", "shared"]


def test_another_users_default_bucket_is_private(app):
    alice_bucket = app.get("/v1/buckets/default", headers=ALICE).json["data"]["id"]
    assert_error(app.get(f"/v1/buckets/{alice_bucket}", headers=BOB, status=403), 403, 121)
    assert_error(app.get(f"/v1/buckets/{alice_bucket}/collections/x/records", headers=BOB, status=403), 403, 121)
    assert app.get("/v1/buckets/default", headers=BOB).json["data"]["id"] != alice_bucket


def test_group_membership_changes_apply_at_once(app):
    app.put_json("/v1/buckets/b/groups/readers", {"data": {"members": [user_id("mary")]}}, headers=ALICE)
    app.patch_json(f"{RECORDS}/private", {"permissions": {"read": ["/buckets/b/groups/readers"]}}, headers=ALICE)
    app.get(f"{RECORDS}/private", headers=MARY, status=200)
    app.patch_json("/v1/buckets/b/groups/readers", {"data": {"members": []}}, headers=ALICE)
    app.get(f"{RECORDS}/private", headers=MARY, status=403)
    assert "private" not in [r["id"] for r in app.get(RECORDS, headers=MARY).json["data"]]


def test_passwords_and_secrets_appear_in_no_answer_and_no_log(app, caplog):
    caplog.set_level(logging.DEBUG)
    password = "correct horse battery staple"
    answers = [
        app.put_json("/v1/accounts/carol", {"data": {"password": password}}).text,
        app.get("/v1/accounts/carol", headers=auth("carol", password)).text,
        app.patch_json(
            "/v1/accounts/carol", {"data": {"password": password + "!"}}, headers=auth("carol", password)
        ).text,
        app.get("/v1/", headers=auth("carol", password + "!")).text,
        app.get("/v1/accounts/carol", headers=auth("carol", "wrong"), expect_errors=True).text,
        app.get("/v1/__api__").text,
    ]
    for text in answers + [caplog.text]:
        assert password not in text
        assert SECRET not in text
