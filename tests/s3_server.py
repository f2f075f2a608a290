"""A real S3-compatible HTTP server for the tests (moto's, from PyPI: no
MinIO in Debian's packages nor PyPI), started once per test session on a
loopback port, and a fresh bucket per test."""

import uuid

import pytest

from tests.backends import IN_CI

ACCESS_KEY, SECRET_KEY = "test-access", "test-secret"


@pytest.fixture(scope="session")
def s3_server():
    """The endpoint URL of the session's S3 server."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:
        if IN_CI:
            pytest.fail(f"The S3 tests are mandatory in CI: {error}")
        pytest.skip(f"moto[server] is not installed ({error}; make test installs it)")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_settings(endpoint, bucket):
    return {
        "kinto.attachment.aws.access_key": ACCESS_KEY,
        "kinto.attachment.aws.secret_key": SECRET_KEY,
        "kinto.attachment.aws.bucket_name": bucket,
        "kinto.attachment.aws.endpoint_url": endpoint,
        "kinto.attachment.aws.prefix": "kinto",
    }


def s3_client(endpoint):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )


def new_bucket(endpoint):
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def s3_store_for(endpoint):
    from kinto_server.plugins.attachments.s3 import S3FileStore

    settings = {key[len("kinto.") :]: value for key, value in s3_settings(endpoint, new_bucket(endpoint)).items()}
    return S3FileStore.from_settings(settings)
