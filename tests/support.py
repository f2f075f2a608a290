"""Shared test helpers: credentials, user ids, and object factories."""

import base64

from kinto_server.authentication import hmac_digest

SECRET = "test-secret"

BASE_SETTINGS = {
    "kinto.userid_hmac_secret": SECRET,
    "kinto.includes": "kinto_server.plugins.default_bucket",
    "kinto.bucket_create_principals": "system.Authenticated",
}


def auth(user, password="secret"):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def user_id(user, password="secret"):
    return "basicauth:" + hmac_digest(SECRET, f"{user}:{password}")


ALICE, BOB, MARY = auth("alice"), auth("bob"), auth("mary")


def create_bucket(app, bucket_id="b", headers=ALICE, **body):
    return app.put_json(f"/v1/buckets/{bucket_id}", body, headers=headers).json


def create_collection(app, bucket_id="b", collection_id="c", headers=ALICE, **body):
    return app.put_json(f"/v1/buckets/{bucket_id}/collections/{collection_id}", body, headers=headers).json


def create_record(app, data=None, bucket_id="b", collection_id="c", headers=ALICE, **body):
    url = f"/v1/buckets/{bucket_id}/collections/{collection_id}/records"
    return app.post_json(url, {"data": data or {}, **body}, headers=headers).json["data"]


def records_url(bucket_id="b", collection_id="c"):
    return f"/v1/buckets/{bucket_id}/collections/{collection_id}/records"


def assert_error(response, code, errno):
    assert response.status_code == code
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json
    assert body["code"] == code
    assert body["errno"] == errno
    assert body["error"]
    # As Kinto: a missing object's (or parent's) 404 carries its details, not a message.
    assert ("details" in body) if code == 404 and "message" not in body else ("message" in body)
    return body
