from tests.support import ALICE, BOB, assert_error, create_bucket, user_id


def test_put_bucket_creates_it_with_creator_as_writer(app):
    response = app.put("/v1/buckets/blog", headers=ALICE, status=201)
    assert response.json["data"]["id"] == "blog"
    assert isinstance(response.json["data"]["last_modified"], int)
    assert response.json["permissions"] == {"write": [user_id("alice")]}
    assert response.headers["ETag"] == f'"{response.json["data"]["last_modified"]}"'


def test_put_existing_bucket_replaces_it_with_200(app):
    app.put_json("/v1/buckets/blog", {"data": {"title": "a"}}, headers=ALICE, status=201)
    response = app.put_json("/v1/buckets/blog", {"data": {"other": 1}}, headers=ALICE, status=200)
    assert response.json["data"]["other"] == 1
    assert "title" not in response.json["data"]


def test_post_bucket_with_id_creates_it_then_returns_existing_with_200(app):
    first = app.post_json("/v1/buckets", {"data": {"id": "blog"}}, headers=ALICE, status=201)
    again = app.post_json("/v1/buckets", {"data": {"id": "blog"}}, headers=ALICE, status=200)
    assert again.json["data"] == first.json["data"]


def test_post_bucket_without_id_generates_one(app):
    response = app.post_json("/v1/buckets", {"data": {"title": "x"}}, headers=ALICE, status=201)
    assert len(response.json["data"]["id"]) == 8


def test_get_bucket_returns_data_etag_and_last_modified(app):
    created = create_bucket(app, "blog")
    response = app.get("/v1/buckets/blog", headers=ALICE)
    assert response.json["data"] == created["data"]
    assert response.headers["ETag"] == f'"{created["data"]["last_modified"]}"'
    assert response.headers["Last-Modified"].endswith("GMT")


def test_patch_bucket_merges_data(app):
    app.put_json("/v1/buckets/blog", {"data": {"a": 1}}, headers=ALICE)
    response = app.patch_json("/v1/buckets/blog", {"data": {"b": 2}}, headers=ALICE)
    assert response.json["data"]["a"] == 1
    assert response.json["data"]["b"] == 2


def test_delete_bucket_returns_tombstone_and_removes_children(app):
    create_bucket(app, "blog")
    app.put("/v1/buckets/blog/collections/articles", headers=ALICE)
    app.post_json("/v1/buckets/blog/collections/articles/records", {"data": {"t": 1}}, headers=ALICE)
    response = app.delete("/v1/buckets/blog", headers=ALICE)
    assert response.json["data"]["deleted"] is True
    assert response.json["data"]["id"] == "blog"
    create_bucket(app, "blog")
    assert app.get("/v1/buckets/blog/collections", headers=ALICE).json["data"] == []
    app.put("/v1/buckets/blog/collections/articles", headers=ALICE)
    assert app.get("/v1/buckets/blog/collections/articles/records", headers=ALICE).json["data"] == []


def test_list_buckets_shows_only_readable_ones(app):
    create_bucket(app, "alice-bucket", headers=ALICE)
    create_bucket(app, "bob-bucket", headers=BOB)
    response = app.get("/v1/buckets", headers=ALICE)
    assert [b["id"] for b in response.json["data"]] == ["alice-bucket"]


def test_delete_buckets_removes_only_writable_ones(app):
    create_bucket(app, "alice-bucket", headers=ALICE)
    create_bucket(app, "bob-bucket", headers=BOB)
    response = app.delete("/v1/buckets", headers=ALICE)
    assert [b["id"] for b in response.json["data"]] == ["alice-bucket"]
    assert all(b["deleted"] for b in response.json["data"])
    app.get("/v1/buckets/bob-bucket", headers=BOB, status=200)


def test_put_bucket_anonymously_is_401(app):
    response = app.put("/v1/buckets/blog", status=401)
    assert_error(response, 401, 104)
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Realm"'


def test_get_other_users_bucket_is_403(app):
    create_bucket(app, "blog", headers=ALICE)
    assert_error(app.get("/v1/buckets/blog", headers=BOB, status=403), 403, 121)


def test_get_missing_bucket_is_403_to_not_reveal_existence(app):
    assert_error(app.get("/v1/buckets/unknown", headers=ALICE, status=403), 403, 121)


def test_invalid_bucket_id_is_400(app):
    assert_error(app.put("/v1/buckets/in%20valid", headers=ALICE, status=400), 400, 107)
    response = app.post_json("/v1/buckets", {"data": {"id": "a.b"}}, headers=ALICE, status=400)
    assert_error(response, 400, 107)


def test_long_bucket_ids_are_accepted(app):
    app.put("/v1/buckets/" + "a" * 300, headers=ALICE, status=201)


def test_bucket_read_permission_lets_another_user_read(app):
    app.put_json("/v1/buckets/blog", {"permissions": {"read": [user_id("bob")]}}, headers=ALICE)
    response = app.get("/v1/buckets/blog", headers=BOB)
    assert response.json["data"]["id"] == "blog"
    assert response.json["permissions"] == {}
    assert_error(app.patch_json("/v1/buckets/blog", {"data": {"x": 1}}, headers=BOB, status=403), 403, 121)


def test_list_buckets_anonymously_is_401(app):
    assert_error(app.get("/v1/buckets", status=401), 401, 104)
