from tests.support import ALICE, BOB, assert_error, create_bucket, create_record, user_id


def test_put_collection_with_or_without_body(app):
    create_bucket(app)
    assert app.put("/v1/buckets/b/collections/c1", headers=ALICE, status=201).json["data"]["id"] == "c1"
    response = app.put_json("/v1/buckets/b/collections/c2", {"data": {}}, headers=ALICE, status=201)
    assert response.json["permissions"] == {"write": [user_id("alice")]}


def test_collection_in_missing_bucket_is_403(app):
    assert_error(app.put("/v1/buckets/missing/collections/c", headers=ALICE, status=403), 403, 121)


def test_collection_in_missing_readable_bucket_reports_missing_parent(app):
    create_bucket(app)
    response = app.get("/v1/buckets/b/collections/missing", headers=ALICE, status=404)
    assert_error(response, 404, 110)


def test_list_collections_and_post_with_generated_id(app):
    create_bucket(app)
    created = app.post_json("/v1/buckets/b/collections", {"data": {"x": 1}}, headers=ALICE, status=201).json["data"]
    data = app.get("/v1/buckets/b/collections", headers=ALICE).json["data"]
    assert [c["id"] for c in data] == [created["id"]]


def test_deleting_collection_removes_its_records(app):
    create_bucket(app)
    app.put("/v1/buckets/b/collections/c", headers=ALICE)
    create_record(app, {"a": 1})
    app.delete("/v1/buckets/b/collections/c", headers=ALICE)
    app.put("/v1/buckets/b/collections/c", headers=ALICE)
    assert app.get("/v1/buckets/b/collections/c/records", headers=ALICE).json["data"] == []
    since = app.get("/v1/buckets/b/collections/c/records?_since=0", headers=ALICE).json["data"]
    assert since == []


def test_collection_create_permission_grants_listing_own_collections(app):
    create_bucket(app, permissions={"collection:create": ["system.Authenticated"]})
    app.put("/v1/buckets/b/collections/alices", headers=ALICE)
    app.put("/v1/buckets/b/collections/bobs", headers=BOB, status=201)
    data = app.get("/v1/buckets/b/collections", headers=BOB).json["data"]
    assert [c["id"] for c in data] == ["bobs"]
    assert app.get("/v1/buckets/b", headers=BOB).json["data"]["id"] == "b"
