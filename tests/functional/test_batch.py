import pytest

from tests.support import ALICE, BOB, assert_error, user_id


def batch(app, body, status=200, headers=ALICE):
    return app.post_json("/v1/batch", body, headers=headers, status=status)


def test_batch_runs_each_request_and_answers_in_place(app):
    body = {
        "defaults": {"method": "PUT"},
        "requests": [
            {"path": "/buckets/b"},
            {"path": "/buckets/b/collections/c", "body": {"data": {"x": 1}}},
            {"method": "POST", "path": "/buckets/b/collections/c/records", "body": {"data": {"a": 1}}},
            {"method": "GET", "path": "/buckets/b/collections/c/records?_limit=1"},
            {"method": "GET", "path": "/buckets/missing"},
        ],
    }
    responses = batch(app, body).json["responses"]
    assert [r["status"] for r in responses] == [201, 201, 201, 200, 403]
    assert [r["path"] for r in responses] == [
        "/v1/buckets/b",
        "/v1/buckets/b/collections/c",
        "/v1/buckets/b/collections/c/records",
        "/v1/buckets/b/collections/c/records",
        "/v1/buckets/missing",
    ]
    assert responses[1]["body"]["data"]["x"] == 1
    assert responses[1]["body"]["permissions"] == {"write": [user_id("alice")]}
    assert responses[3]["body"]["data"][0]["a"] == 1
    assert responses[3]["headers"]["ETag"] == f'"{responses[2]["body"]["data"]["last_modified"]}"'
    assert responses[4]["body"]["errno"] == 121


def test_failed_subrequest_leaves_the_others_applied(app):
    body = {
        "requests": [
            {"method": "PUT", "path": "/buckets/b"},
            {"method": "PUT", "path": "/buckets/b/collections/c", "headers": {"If-Match": '"1"'}},
            {"method": "PUT", "path": "/buckets/b/collections/d"},
        ]
    }
    assert [r["status"] for r in batch(app, body).json["responses"]] == [201, 412, 201]
    app.get("/v1/buckets/b/collections/c", headers=ALICE, status=404)
    app.get("/v1/buckets/b/collections/d", headers=ALICE, status=200)


def test_subrequests_inherit_the_batch_credentials_unless_overridden(app):
    body = {
        "requests": [{"method": "PUT", "path": "/buckets/b"}, {"path": "/buckets/b", "headers": {"Authorization": ""}}]
    }
    responses = batch(app, body).json["responses"]
    assert [r["status"] for r in responses] == [201, 401]


def test_defaults_merge_into_each_request(app):
    body = {
        "defaults": {
            "method": "POST",
            "path": "/buckets/default/collections/tasks/records",
            "body": {"data": {"x": 1}},
        },
        "requests": [{"body": {"data": {"y": 2}}}, {}],
    }
    responses = batch(app, body).json["responses"]
    assert [r["status"] for r in responses] == [201, 201]
    assert responses[0]["body"]["data"]["x"] == 1 and responses[0]["body"]["data"]["y"] == 2


def test_empty_batch_answers_no_responses(app):
    assert batch(app, {"requests": []}).json == {"responses": []}


def test_304_subresponse_has_no_body(app):
    created = app.put("/v1/buckets/b", headers=ALICE).json["data"]
    body = {"requests": [{"path": "/buckets/b", "headers": {"If-None-Match": f'"{created["last_modified"]}"'}}]}
    response = batch(app, body).json["responses"][0]
    assert response["status"] == 304 and response["body"] is None


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({}, "requests"),
        ({"requests": "x"}, "requests"),
        ({"requests": [{}]}, "requests.0.path"),
        ({"requests": [{"path": "buckets"}]}, "requests.0.path"),
        ({"requests": [{"path": "/buckets", "method": "FOO"}]}, "requests.0.method"),
        ({"requests": [{"path": "/buckets", "body": [1]}]}, "requests.0.body"),
        ({"requests": [{"path": "/buckets", "headers": {"X": 1}}]}, "requests.0.headers"),
        ({"requests": [{"path": "/batch", "method": "POST"}]}, "requests"),
        ({"requests": [{"path": "/v1/batch", "method": "POST"}]}, "requests"),
        ({"requests": [{"path": "/buckets"}] * 26}, "requests"),
        ({"foo": 1, "requests": []}, ""),
    ],
)
def test_malformed_batches_are_400(app, body, name):
    response = batch(app, body, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == name


def test_batch_size_follows_the_setting(make_app):
    app = make_app(**{"kinto.batch_max_requests": "2"})
    batch(app, {"requests": [{"path": "/buckets"}] * 2})
    batch(app, {"requests": [{"path": "/buckets"}] * 3}, status=400)


def test_batch_with_invalid_json_is_400(app):
    response = app.post("/v1/batch", "{", headers={**ALICE, "Content-Type": "application/json"}, status=400)
    assert_error(response, 400, 107)


def test_batch_only_accepts_post(app):
    assert_error(app.get("/v1/batch", headers=ALICE, status=405), 405, 115)


def test_readonly_batch_refuses_writes_inside(make_app):
    app = make_app(**{"kinto.readonly": "true"})
    responses = batch(app, {"requests": [{"method": "PUT", "path": "/buckets/b"}, {"path": "/"}]}).json["responses"]
    assert [r["status"] for r in responses] == [405, 200]


def test_subrequest_path_that_is_not_utf8_is_answered_400_in_place(app):
    requests = [{"path": "/buckets/%FF"}, {"path": "/buckets?%FF=1"}, {"path": "/buckets/%62"}]
    responses = app.post_json("/v1/batch", {"requests": requests}, headers=ALICE).json["responses"]
    assert [r["status"] for r in responses] == [400, 400, 403]
    assert responses[0]["path"] == "/v1/buckets/\N{REPLACEMENT CHARACTER}"
    assert responses[0]["body"]["errno"] == 107
    assert responses[2]["path"] == "/v1/buckets/b"


def _create(path="/buckets/b/collections/c/records", **body):
    return {"method": "POST", "path": path, "body": body or {"data": {}}}


def test_batch_of_creations_keeps_timestamps_etag_count_and_changes_exact(app):
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    before = app.get("/v1/buckets/b/collections/c/records", headers=ALICE).headers["ETag"].strip('"')
    requests = [_create(data={"n": n}) for n in range(10)]
    requests[4] = _create(data={"n": 4}, permissions={"read": "not a list"})  # 400: the others stay
    requests[7] = _create(data={"n": 7}, permissions={"read": ["system.Everyone"]})
    responses = batch(app, {"requests": requests}).json["responses"]
    assert [r["status"] for r in responses] == [201] * 4 + [400] + [201] * 5
    created = [r["body"]["data"] for r in responses if r["status"] == 201]
    stamps = [record["last_modified"] for record in created]
    assert stamps == sorted(set(stamps)) and stamps[0] > int(before)
    listed = app.get(f"/v1/buckets/b/collections/c/records?_since={before}&_sort=last_modified", headers=ALICE)
    pairs = [(r["id"], r["last_modified"]) for r in created]
    assert [(r["id"], r["last_modified"]) for r in listed.json["data"]] == pairs
    assert listed.headers["ETag"] == f'"{stamps[-1]}"'
    head = app.head("/v1/buckets/b/collections/c/records", headers=ALICE)
    assert head.headers["Total-Records"] == "9"
    shared = app.get(f"/v1/buckets/b/collections/c/records/{created[6]['id']}", status=200)
    assert shared.json["data"]["n"] == 7
    assert responses[7]["body"]["permissions"] == {"read": ["system.Everyone"], "write": [user_id("alice")]}
    # The next write takes the next timestamp.
    after = app.post_json("/v1/buckets/b/collections/c/records", {"data": {}}, headers=ALICE).json["data"]
    assert after["last_modified"] > stamps[-1]


def test_creating_one_id_twice_in_a_batch_answers_the_first_one(app):
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    requests = [_create(data={"id": "twice", "n": 1}), _create(data={"id": "twice", "n": 2})]
    responses = batch(app, {"requests": requests}).json["responses"]
    assert [r["status"] for r in responses] == [201, 200]
    assert responses[1]["body"]["data"] == responses[0]["body"]["data"]
    stored = app.get("/v1/buckets/b/collections/c/records/twice", headers=ALICE).json["data"]
    assert stored["n"] == 1


def test_permissions_changed_inside_a_batch_apply_to_its_next_requests(app):
    """A batch remembers what its record writes read of their ancestors
    only until something else is written."""
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    bob = user_id("bob")
    app.put_json("/v1/buckets/b/collections/c", {"permissions": {"write": [bob]}}, headers=ALICE)
    requests = [
        _create(),
        {
            "method": "PATCH",
            "path": "/buckets/b/collections/c",
            "body": {"permissions": {"write": []}},
            "headers": ALICE,
        },
        _create(),
    ]
    responses = batch(app, {"requests": requests}, headers=BOB).json["responses"]
    assert [r["status"] for r in responses] == [201, 200, 403]


def test_each_subrequest_is_checked_with_its_own_credentials(app):
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    requests = [_create(), {**_create(), "headers": BOB}, _create()]
    responses = batch(app, {"requests": requests}).json["responses"]
    assert [r["status"] for r in responses] == [201, 403, 201]
