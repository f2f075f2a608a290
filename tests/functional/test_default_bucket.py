import hashlib
import hmac
import uuid

from tests.support import ALICE, BOB, assert_error, auth, user_id


def expected_bucket_id(uid, secret=""):
    """Kinto 26.5's derivation: keyed by ``default_bucket_hmac_secret``, the
    empty string when unset (not ``userid_hmac_secret``)."""
    digest = hmac.new(secret.encode(), uid.encode(), hashlib.sha256).hexdigest()
    return str(uuid.UUID(digest[:32]))


def test_default_bucket_id_is_derived_from_user_id(app):
    response = app.get("/v1/buckets/default", headers=ALICE)
    assert response.json["data"]["id"] == expected_bucket_id(user_id("alice"))
    assert response.json["permissions"] == {"write": [user_id("alice")]}


def test_default_bucket_id_uses_its_own_secret(make_app):
    app = make_app(**{"kinto.default_bucket_hmac_secret": "other"})
    response = app.get("/v1/buckets/default", headers=ALICE)
    assert response.json["data"]["id"] == expected_bucket_id(user_id("alice"), "other")


def test_bucket_ids_stay_right_past_the_ids_kept(app, monkeypatch):
    from kinto_server.plugins import default_bucket

    monkeypatch.setattr(default_bucket, "KEPT_IDS", 2)
    users = ["alice", "bob", "carol", "alice", "dave", "bob"]
    for name in users:
        bucket = app.get("/v1/", headers=auth(name)).json["user"]["bucket"]
        assert bucket == expected_bucket_id(user_id(name))
    assert len(app.app.registry.default_bucket._ids) <= 2


def test_root_reports_the_default_bucket(app):
    user = app.get("/v1/", headers=ALICE).json["user"]
    assert user["bucket"] == expected_bucket_id(user_id("alice"))


def test_collections_are_created_implicitly(app):
    response = app.post_json("/v1/buckets/default/collections/tasks/records", {"data": {"a": 1}}, headers=ALICE)
    assert response.status_code == 201
    bucket_id = expected_bucket_id(user_id("alice"))
    listed = app.get(f"/v1/buckets/{bucket_id}/collections/tasks/records", headers=ALICE).json["data"]
    assert listed[0]["a"] == 1
    assert app.get("/v1/buckets/default/collections/other/records", headers=ALICE).json["data"] == []


def test_default_buckets_are_personal(app):
    app.post_json("/v1/buckets/default/collections/tasks/records", {"data": {"a": 1}}, headers=ALICE)
    assert app.get("/v1/buckets/default/collections/tasks/records", headers=BOB).json["data"] == []
    bucket_id = expected_bucket_id(user_id("alice"))
    assert_error(app.get(f"/v1/buckets/{bucket_id}/collections/tasks/records", headers=BOB, status=403), 403, 121)


def test_default_bucket_requires_authentication(app):
    assert_error(app.get("/v1/buckets/default", status=401), 401, 104)


def test_default_bucket_is_off_without_the_plugin(make_app):
    app = make_app(**{"kinto.includes": ""})
    assert_error(app.get("/v1/buckets/default", headers=ALICE, status=403), 403, 121)
    assert "bucket" not in app.get("/v1/", headers=ALICE).json["user"]
