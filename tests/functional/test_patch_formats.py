import pytest

from tests.support import ALICE, assert_error, create_bucket, user_id

URL = "/v1/buckets/b/collections/c"
MERGE = {**ALICE, "Content-Type": "application/merge-patch+json"}
JSON_PATCH = {**ALICE, "Content-Type": "application/json-patch+json"}


@pytest.fixture
def app(app):
    create_bucket(app)
    body = {"data": {"a": {"x": 1, "y": 2}, "b": 1, "c": [1]}, "permissions": {"read": ["u1", "u2"]}}
    app.put_json(URL, body, headers=ALICE)
    return app


def patch(app, body, headers, status=200):
    return app.patch_json(URL, body, headers=headers, status=status)


def test_merge_patch_merges_nested_objects_and_null_removes(app):
    response = patch(app, {"data": {"a": {"x": None, "z": 3}, "b": None}, "permissions": {"read": ["u3"]}}, MERGE)
    data = response.json["data"]
    assert data["a"] == {"y": 2, "z": 3}
    assert "b" not in data and data["c"] == [1]
    assert response.json["permissions"]["read"] == ["u3"]


def test_plain_patch_replaces_nested_objects(app):
    data = patch(app, {"data": {"a": {"z": 3}}}, ALICE).json["data"]
    assert data["a"] == {"z": 3} and data["b"] == 1


def test_json_patch_edits_data_and_single_principals(app):
    operations = [
        {"op": "add", "path": "/data/d", "value": 4},
        {"op": "remove", "path": "/data/c"},
        {"op": "replace", "path": "/data/a/x", "value": 10},
        {"op": "add", "path": "/permissions/read/u9"},
        {"op": "remove", "path": "/permissions/read/u1"},
        {"op": "add", "path": "/permissions/write/u7"},
    ]
    response = patch(app, operations, JSON_PATCH)
    data = response.json["data"]
    assert data["d"] == 4 and "c" not in data and data["a"] == {"x": 10, "y": 2}
    assert response.json["permissions"] == {"read": ["u2", "u9"], "write": sorted([user_id("alice"), "u7"])}


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "remove", "path": "/data/nope"}],
        [{"op": "test", "path": "/data/b", "value": 5}],
        [{"op": "add", "path": "/permissions/unknown/u1", "value": 1}],
        [{"op": "add", "path": "/data/x"}],
        [{"op": "bad", "path": "/data/b"}],
        [{"op": "add"}],
        [{"op": "replace", "path": "/data", "value": [1]}],
        {"data": {}},
        ["x"],
    ],
)
def test_bad_json_patches_are_400_and_change_nothing(app, operations):
    before = app.get(URL, headers=ALICE).json
    assert_error(patch(app, operations, JSON_PATCH, status=400), 400, 107)
    assert app.get(URL, headers=ALICE).json == before


def test_json_patch_cannot_change_the_id(app):
    operations = [{"op": "replace", "path": "/data/id", "value": "other"}]
    assert_error(patch(app, operations, JSON_PATCH, status=400), 400, 107)


def test_json_patch_test_operation_guards_the_patch(app):
    operations = [{"op": "test", "path": "/data/b", "value": 1}, {"op": "replace", "path": "/data/b", "value": 2}]
    assert patch(app, operations, JSON_PATCH).json["data"]["b"] == 2


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "add", "path": "/permissions/read", "value": []}, {"op": "add", "path": "/permissions/read/bob"}],
        [{"op": "replace", "path": "/permissions", "value": []}, {"op": "remove", "path": "/permissions/read/u1"}],
    ],
)
def test_principal_operations_after_a_permission_was_replaced_are_a_400(app, operations):
    """Found by the costly-shapes fuzzer: a 500 before."""
    response = app.patch_json(URL, operations, headers=JSON_PATCH, status=400)
    assert_error(response, 400, 107)
    assert app.get(URL, headers=ALICE).json["permissions"]["read"] == ["u1", "u2"]
