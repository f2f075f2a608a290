import pytest

from tests.support import ALICE, assert_error, create_bucket, records_url

SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "n": {"type": "integer", "minimum": 0}, "meta": {"type": "object"}},
    "required": ["title"],
    "additionalProperties": False,
}


@pytest.fixture
def app(make_app):
    app = make_app(**{"kinto.experimental_collection_schema_validation": "true"})
    create_bucket(app)
    app.put_json("/v1/buckets/b/collections/c", {"data": {"schema": SCHEMA}}, headers=ALICE)
    return app


def post(app, data, status=201):
    return app.post_json(records_url(), {"data": data}, headers=ALICE, status=status)


def test_valid_record_is_stored_with_the_schema_timestamp(app):
    collection = app.get("/v1/buckets/b/collections/c", headers=ALICE).json["data"]
    record = post(app, {"title": "ok", "n": 1}).json["data"]
    assert record["schema"] == collection["last_modified"]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ({"n": 1}, "title"),
        ({"title": "x", "n": -1}, "n"),
        ({"title": 5}, "title"),
        ({"title": "x", "zz": 1}, "additionalProperties"),
    ],
)
def test_invalid_records_are_400_naming_the_field(app, data, name):
    body = assert_error(post(app, data, status=400), 400, 107)
    assert body["details"][0]["location"] == "body"
    assert body["details"][0]["name"] == name


def test_patch_and_put_are_validated_too(app):
    record = post(app, {"title": "ok"}).json["data"]
    url = f"{records_url()}/{record['id']}"
    assert_error(app.patch_json(url, {"data": {"title": 1}}, headers=ALICE, status=400), 400, 107)
    assert_error(app.put_json(url, {"data": {"n": 1}}, headers=ALICE, status=400), 400, 107)
    app.patch_json(url, {"data": {"n": 3}}, headers=ALICE, status=200)


def test_invalid_schema_is_400(app):
    for schema in ({"type": "nonsense"}, "x"):
        response = app.put_json("/v1/buckets/b/collections/d", {"data": {"schema": schema}}, headers=ALICE, status=400)
        assert assert_error(response, 400, 107)["details"][0]["name"] == "data.schema"


def test_schema_changes_do_not_touch_stored_records(app):
    record = post(app, {"title": "ok"}).json["data"]
    stricter = {**SCHEMA, "required": ["title", "n"]}
    app.patch_json("/v1/buckets/b/collections/c", {"data": {"schema": stricter}}, headers=ALICE)
    assert app.get(f"{records_url()}/{record['id']}", headers=ALICE).json["data"] == record
    post(app, {"title": "no n"}, status=400)


def test_bucket_schemas_validate_collections_groups_and_records(app):
    bucket_schemas = {
        "collection:schema": {"type": "object", "required": ["label"]},
        "group:schema": {"type": "object", "properties": {"members": {"maxItems": 1}}},
        "record:schema": {"type": "object", "required": ["kind"]},
    }
    app.patch_json("/v1/buckets/b", {"data": bucket_schemas}, headers=ALICE)
    assert_error(app.put_json("/v1/buckets/b/collections/e", {"data": {}}, headers=ALICE, status=400), 400, 107)
    app.put_json("/v1/buckets/b/collections/e", {"data": {"label": "E"}}, headers=ALICE, status=201)
    url = "/v1/buckets/b/collections/e/records"
    assert_error(app.post_json(url, {"data": {"x": 1}}, headers=ALICE, status=400), 400, 107)
    app.post_json(url, {"data": {"kind": 1}}, headers=ALICE, status=201)
    group = {"data": {"members": ["a", "b"]}}
    assert_error(app.put_json("/v1/buckets/b/groups/g", group, headers=ALICE, status=400), 400, 107)


def test_invalid_bucket_schema_is_400(app):
    response = app.patch_json("/v1/buckets/b", {"data": {"record:schema": {"type": 1}}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "data.record:schema"


def test_root_lists_the_schema_capability(app):
    assert "schema" in app.get("/v1/").json["capabilities"]


def test_schemas_are_ignored_when_validation_is_off(make_app):
    app = make_app()
    create_bucket(app)
    app.put_json("/v1/buckets/b/collections/c", {"data": {"schema": SCHEMA}}, headers=ALICE)
    record = post(app, {"n": -1}).json["data"]
    assert "schema" not in record
    assert "schema" not in app.get("/v1/").json["capabilities"]
