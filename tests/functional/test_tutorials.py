"""The seed tutorials, replayed step by step against the WSGI app.

Each step asserts the status, the headers the tutorial shows and the body,
except for generated ids and timestamps. Where current Kinto differs from the
older tutorials (``basicauth:`` principals, ``Total-Records`` on HEAD only),
current Kinto is followed.
"""

import pytest

from tests.support import auth, user_id

USER, ALICE, BOB, MARY = (
    auth("user", "password"),
    auth("alice", "alicepassword"),
    auth("bob", "bobpassword"),
    auth("mary", "marypassword"),
)
USER_ID, ALICE_ID, BOB_ID, MARY_ID = (
    user_id("user", "password"),
    user_id("alice", "alicepassword"),
    user_id("bob", "bobpassword"),
    user_id("mary", "marypassword"),
)
TASKS = "/v1/buckets/default/collections/tasks/records"
TODO_TASKS = "/v1/buckets/todo/collections/tasks/records"


@pytest.fixture
def app(make_app):
    # The tutorial's server asked clients to back off for 10 seconds.
    return make_app(**{"kinto.backoff": "10"})


def assert_common_headers(response, *exposed):
    assert response.headers["Content-Type"] == "application/json"  # No parameter, as Kinto (RFC 8259).
    assert response.headers["Backoff"] == "10"
    for name in ("Backoff", "Retry-After", "Alert", *exposed):
        assert name in response.headers["Access-Control-Expose-Headers"]


def assert_timestamp_headers(response, timestamp):
    assert response.headers["ETag"] == f'"{timestamp}"'
    assert response.headers["Last-Modified"].endswith(" GMT")


def test_sync_user_data_between_devices(app):
    task = {"description": "Write a tutorial explaining Kinto", "status": "todo"}
    created = app.post_json(TASKS, {"data": task}, headers=USER, status=201)
    assert_common_headers(created)
    record = created.json["data"]
    assert {k: record[k] for k in task} == task
    assert created.json["permissions"] == {"write": [USER_ID]}
    record_url = f"{TASKS}/{record['id']}"

    listed = app.get(TASKS, headers=USER, status=200)
    assert_common_headers(listed, "Next-Page", "Last-Modified", "ETag")
    assert_timestamp_headers(listed, record["last_modified"])
    assert listed.json == {"data": [record]}
    assert app.head(TASKS, headers=USER).headers["Total-Records"] == "1"
    first_etag = listed.headers["ETag"]

    doing = app.patch_json(record_url, {"data": {"status": "doing"}}, headers=USER, status=200)
    assert_common_headers(doing)
    assert doing.json["data"]["status"] == "doing"
    assert doing.json["data"]["last_modified"] > record["last_modified"]
    assert doing.json["permissions"] == {"write": [USER_ID]}

    stale = app.patch_json(
        record_url, {"data": {"status": "done"}}, headers={**USER, "If-Match": first_etag}, status=412
    )
    assert_timestamp_headers(stale, doing.json["data"]["last_modified"])
    assert {k: stale.json[k] for k in ("code", "errno", "error", "message")} == {
        "code": 412,
        "errno": 114,
        "error": "Precondition Failed",
        "message": "Resource was modified meanwhile",
    }

    fetched = app.get(record_url, headers=USER, status=200)
    assert_common_headers(fetched, "Last-Modified", "ETag")
    assert_timestamp_headers(fetched, doing.json["data"]["last_modified"])
    assert fetched.json["data"] == doing.json["data"]

    done = app.patch_json(
        record_url, {"data": {"status": "done"}}, headers={**USER, "If-Match": fetched.headers["ETag"]}, status=200
    )
    assert done.json["data"]["status"] == "done"

    deleted = app.delete(record_url, headers={**USER, "If-Match": f'"{done.json["data"]["last_modified"]}"'})
    assert_common_headers(deleted)
    tombstone = deleted.json["data"]
    assert tombstone == {"deleted": True, "id": record["id"], "last_modified": tombstone["last_modified"]}

    changes = app.get(f"{TASKS}?_since={first_etag.strip(chr(34))}", headers=USER, status=200)
    assert_common_headers(changes, "Next-Page", "ETag")
    assert_timestamp_headers(changes, tombstone["last_modified"])
    assert changes.json == {"data": [tombstone]}
    assert app.head(f"{TASKS}?_since={first_etag.strip(chr(34))}", headers=USER).headers["Total-Records"] == "0"

    app.get(TASKS, headers={**USER, "If-None-Match": changes.headers["ETag"]}, status=304)


def test_sync_and_share_data_between_users(app):
    bucket = app.put("/v1/buckets/todo", headers=USER, status=201)
    assert_common_headers(bucket)
    assert bucket.json["data"]["id"] == "todo"
    assert bucket.json["permissions"] == {"write": [USER_ID]}

    collection = app.put_json(
        "/v1/buckets/todo/collections/tasks",
        {"permissions": {"record:create": ["system.Authenticated"]}},
        headers=USER,
        status=201,
    )
    assert collection.json["data"]["id"] == "tasks"
    assert collection.json["permissions"] == {"record:create": ["system.Authenticated"], "write": [USER_ID]}

    alice_task = app.post_json(
        TODO_TASKS, {"data": {"description": "Alice task", "status": "todo"}}, headers=ALICE, status=201
    )
    assert alice_task.json["permissions"] == {"write": [ALICE_ID]}
    alice_task = alice_task.json["data"]

    bob_task = app.post_json(
        TODO_TASKS,
        {"data": {"description": "Bob new task", "status": "todo"}, "permissions": {"read": [ALICE_ID]}},
        headers=BOB,
        status=201,
    )
    assert bob_task.json["permissions"] == {"read": [ALICE_ID], "write": [BOB_ID]}
    bob_task = bob_task.json["data"]

    shared = app.patch_json(
        f"{TODO_TASKS}/{alice_task['id']}", {"permissions": {"read": [BOB_ID]}}, headers=ALICE, status=200
    )
    assert shared.json["data"]["description"] == "Alice task"
    assert shared.json["permissions"] == {"read": [BOB_ID], "write": [ALICE_ID]}
    alice_task = shared.json["data"]

    bobs_view = app.get(TODO_TASKS, headers=BOB, status=200)
    assert_common_headers(bobs_view, "Next-Page", "ETag")
    assert bobs_view.headers["ETag"] == f'"{alice_task["last_modified"]}"'
    assert bobs_view.json["data"] == [alice_task, bob_task]
    assert app.head(TODO_TASKS, headers=BOB).headers["Total-Records"] == "2"

    # Working with groups.
    bucket = app.patch_json(
        "/v1/buckets/todo", {"permissions": {"group:create": ["system.Authenticated"]}}, headers=USER, status=200
    )
    assert bucket.json["permissions"] == {"group:create": ["system.Authenticated"], "write": [USER_ID]}

    group = app.put_json(
        "/v1/buckets/todo/groups/alice-friends", {"data": {"members": [BOB_ID, MARY_ID]}}, headers=ALICE, status=201
    )
    assert group.json["data"]["members"] == [BOB_ID, MARY_ID]
    assert group.json["permissions"] == {"write": [ALICE_ID]}

    app.get(f"{TODO_TASKS}/{alice_task['id']}", headers=MARY, status=403)
    regrouped = app.patch_json(
        f"{TODO_TASKS}/{alice_task['id']}",
        {"permissions": {"read": ["/buckets/todo/groups/alice-friends"]}},
        headers=ALICE,
        status=200,
    )
    assert regrouped.json["permissions"] == {"read": ["/buckets/todo/groups/alice-friends"], "write": [ALICE_ID]}

    marys_view = app.get(f"{TODO_TASKS}/{alice_task['id']}", headers=MARY, status=200)
    assert marys_view.json["data"]["description"] == "Alice task"
    assert marys_view.json["permissions"] == {}


def test_older_tutorial_steps(app):
    """The reStructuredText tutorial: PUT on an implicit default collection,
    then a PUT replacing a record's data and permissions. The tutorial shows
    a 200 for the first PUT; Kinto 26.5 answers 201 (it creates the
    collection then), and so do we."""
    implicit = app.put_json("/v1/buckets/default/collections/tasks", {"data": {}}, headers=USER, status=201)
    assert implicit.json["data"]["id"] == "tasks"
    assert implicit.json["permissions"] == {"write": [USER_ID]}

    app.put("/v1/buckets/todo", headers=USER)
    app.put_json(
        "/v1/buckets/todo/collections/tasks", {"permissions": {"record:create": ["system.Authenticated"]}}, headers=USER
    )
    task = app.post_json(TODO_TASKS, {"data": {"description": "Alice task"}}, headers=ALICE).json["data"]
    assert app.get(TODO_TASKS, headers=BOB).json["data"] == []
    replaced = app.put_json(
        f"{TODO_TASKS}/{task['id']}", {"data": {}, "permissions": {"read": [BOB_ID]}}, headers=ALICE, status=200
    )
    assert replaced.json["data"] == {"id": task["id"], "last_modified": replaced.json["data"]["last_modified"]}
    assert replaced.json["permissions"] == {"read": [BOB_ID], "write": [ALICE_ID]}
    assert [r["id"] for r in app.get(TODO_TASKS, headers=BOB).json["data"]] == [task["id"]]


def test_buckets_page(app):
    """The buckets API page: create, replace, get, list, delete, default bucket."""
    bob = auth("bob", "p4ssw0rd")
    bob_id = user_id("bob", "p4ssw0rd")
    created = app.post_json("/v1/buckets", {"data": {"id": "blog"}}, headers=bob, status=201)
    assert created.json == {
        "data": {"id": "blog", "last_modified": created.json["data"]["last_modified"]},
        "permissions": {"write": [bob_id]},
    }

    replaced = app.put("/v1/buckets/blog", headers=bob, status=200)
    assert replaced.json["permissions"] == {"write": [bob_id]}

    fetched = app.get("/v1/buckets/blog", headers=bob, status=200)
    assert_common_headers(fetched, "Last-Modified", "ETag")
    assert_timestamp_headers(fetched, replaced.json["data"]["last_modified"])

    listed = app.get("/v1/buckets", headers=bob, status=200)
    assert_common_headers(listed, "Next-Page", "Last-Modified", "ETag")
    assert listed.json == {"data": [replaced.json["data"]]}

    deleted = app.delete("/v1/buckets/blog", headers=bob, status=200)
    assert deleted.json["data"]["deleted"] is True and deleted.json["data"]["id"] == "blog"

    default = app.get("/v1/buckets/default", headers=bob, status=200)
    assert default.json["permissions"] == {"write": [bob_id]}
    hello = app.get("/v1/", headers=bob).json
    assert hello["user"] == {
        "id": bob_id,
        "principals": hello["user"]["principals"],
        "bucket": default.json["data"]["id"],
    }
    assert hello["settings"]["batch_max_requests"] == 25

    removed = app.delete("/v1/buckets", headers=bob, status=200)
    assert [b["id"] for b in removed.json["data"]] == [default.json["data"]["id"]]
