import pytest

from tests.support import ALICE, BOB, assert_error, auth


@pytest.fixture
def app(make_app):
    app = make_app(**{"kinto.experimental_permissions_endpoint": "true"})
    app.put("/v1/buckets/pb", headers=BOB)
    app.put_json("/v1/buckets/pb/collections/c", {"permissions": {"read": ["system.Authenticated"]}}, headers=BOB)
    app.put_json("/v1/buckets/pb/collections/c/records/r1", {"data": {}}, headers=BOB)
    app.put("/v1/buckets/pb/groups/g", headers=BOB)
    return app


def by_uri(response):
    return {e["uri"]: e for e in response.json["data"]}


def test_lists_objects_with_every_permission_held(app):
    entries = by_uri(app.get("/v1/permissions", headers=BOB))
    assert entries["/buckets/pb"] == {
        "uri": "/buckets/pb",
        "resource_name": "bucket",
        "id": "pb",
        "bucket_id": "pb",
        "permissions": ["collection:create", "group:create", "read", "read:attributes", "write"],
    }
    assert entries["/buckets/pb/collections/c/records/r1"]["permissions"] == ["read", "write"]
    assert entries["/buckets/pb/collections/c/records/r1"]["collection_id"] == "c"
    assert entries["/buckets/pb/groups/g"]["group_id"] == "g"
    assert entries["/"] == {"uri": "/", "resource_name": "root", "permissions": ["bucket:create"]}


def test_other_users_see_only_what_is_shared_with_them(app):
    entries = by_uri(app.get("/v1/permissions", headers=ALICE))
    assert set(entries) == {"/buckets/pb/collections/c", "/"}
    assert entries["/buckets/pb/collections/c"]["permissions"] == ["read", "read:attributes"]


def test_filters_sorting_and_pagination(app):
    data = app.get("/v1/permissions?resource_name=record", headers=BOB).json["data"]
    assert [e["uri"] for e in data] == ["/buckets/pb/collections/c/records/r1"]
    url, seen = "/v1/permissions?_sort=uri&_limit=2", []
    while url:
        response = app.get(url, headers=BOB)
        seen.extend(e["uri"] for e in response.json["data"])
        url = response.headers.get("Next-Page")
    assert seen == sorted(by_uri(app.get("/v1/permissions", headers=BOB)))


def test_anonymous_sees_only_public_objects(app):
    app.patch_json("/v1/buckets/pb", {"permissions": {"read": ["system.Everyone"]}}, headers=BOB)
    assert [e["uri"] for e in app.get("/v1/permissions").json["data"]] == ["/buckets/pb"]


def test_endpoint_is_off_by_default(make_app):
    app = make_app()
    assert_error(app.get("/v1/permissions", headers=BOB, status=404), 404, 111)
    assert "permissions_endpoint" not in app.get("/v1/").json["capabilities"]


def test_an_account_is_listed_for_its_owner_as_kinto_lists_it(make_app):
    app = make_app(
        **{
            "kinto.experimental_permissions_endpoint": "true",
            "kinto.includes": "kinto_server.plugins.accounts",
            "kinto.multiauth.policies": "account basicauth",
            "kinto.account_hash_rounds": "4",
        }
    )
    app.put_json("/v1/accounts/zed", {"data": {"password": "pw"}}, status=201)
    entries = by_uri(app.get("/v1/permissions", headers=auth("zed", "pw")))
    assert entries["/accounts/zed"] == {
        "uri": "/accounts/zed",
        "resource_name": "account",
        "permissions": ["read", "write"],
        "id": "zed",
        "account_id": "zed",
    }
    assert "/accounts/zed" not in by_uri(app.get("/v1/permissions", headers=BOB))
