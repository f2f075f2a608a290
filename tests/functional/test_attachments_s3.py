"""Attachments kept in an S3-compatible store (a real S3 HTTP server,
started by the tests), through the same endpoints: uploads, downloads
(ranges and 304s included), files removed with their records or replaced,
``__flush__`` and the heartbeat."""

import pytest

from tests.s3_server import new_bucket, s3_client, s3_settings
from tests.support import ALICE, BOB, create_bucket, create_collection

RECORD = "/v1/buckets/b/collections/c/records/r1"


@pytest.fixture
def bucket(s3_server):
    return new_bucket(s3_server)


@pytest.fixture
def app(make_app, s3_server, bucket):
    app = make_app(
        **{"kinto.includes": "kinto_attachment kinto.plugins.flush", **s3_settings(s3_server, bucket)},
    )
    create_bucket(app)
    create_collection(app)
    return app


def objects(s3_server, bucket):
    listed = s3_client(s3_server).list_objects_v2(Bucket=bucket)
    return sorted(found["Key"] for found in listed.get("Contents", ()))


def attach(app, content=b"hello world", status=201):
    return app.post(
        RECORD + "/attachment", upload_files=[("attachment", "a.txt", content)], headers=ALICE, status=status
    )


def test_an_upload_lands_in_the_bucket_and_is_served_to_readers(app, s3_server, bucket):
    metadata = attach(app).json
    assert objects(s3_server, bucket) == ["kinto/" + metadata["location"]]
    url = "/v1/attachments/" + metadata["location"]
    response = app.get(url, headers=ALICE)
    assert response.body == b"hello world"
    assert response.headers["Content-Type"] == "text/plain"
    assert app.get(url, headers={**ALICE, "Range": "bytes=6-"}, status=206).body == b"world"
    app.get(url, headers={**ALICE, "If-None-Match": f'"{metadata["hash"]}"'}, status=304)
    app.get(url, headers=BOB, status=403)


def test_replacing_deleting_and_flushing_remove_the_objects(app, s3_server, bucket):
    attach(app)
    second = attach(app, content=b"second", status=200).json
    assert objects(s3_server, bucket) == ["kinto/" + second["location"]]
    app.delete(RECORD, headers=ALICE)
    assert objects(s3_server, bucket) == []
    attach(app)
    app.post("/v1/__flush__", status=202)
    assert objects(s3_server, bucket) == []


def test_the_heartbeat_fails_when_the_bucket_is_gone(make_app, s3_server):
    app = make_app(**{"kinto.includes": "kinto_attachment", **s3_settings(s3_server, "no-such-bucket")})
    assert app.get("/v1/__heartbeat__", status=503).json["attachments"] is False
