"""Attachment files in an S3-compatible object store, through boto3 (the
``s3`` extra). kinto-attachment's settings: ``kinto.attachment.aws.access_key``,
``.secret_key``, ``.bucket_name``, ``.acl`` (given to each upload, e.g.
``public-read`` when a CDN serves the bucket); ours: ``.endpoint_url`` (any
S3-compatible server: MinIO, Ceph, R2...), ``.region`` and ``.prefix`` (a
folder of the bucket holding this server's files)."""

import contextlib
import os
import uuid

from kinto_server.plugins.attachments.files import CHUNK_BYTES, FileStore, StoredFile
from kinto_server.settings import ConfigurationError


class _Reader:
    """An object of the store as a read-only file: ``seek`` starts a new
    ranged read, so that a ``Range`` request fetches only what it asks."""

    def __init__(self, store, key, size):
        self.store, self.key, self.size = store, key, size
        self._body = None
        self._position = 0

    def seek(self, offset, whence=os.SEEK_SET):
        if whence == os.SEEK_END:
            offset = self.size + offset
        elif whence == os.SEEK_CUR:
            offset = self._position + offset
        self.close()
        self._position = offset
        return offset

    def tell(self):
        return self._position

    def read(self, size=CHUNK_BYTES):
        if self._position >= self.size:
            return b""
        if self._body is None:
            self._body = self.store._get(self.key, f"bytes={self._position}-")["Body"]
        data = self._body.read(size if size and size > 0 else None)
        self._position += len(data)
        return data

    def close(self):
        if self._body is not None:
            self._body.close()
            self._body = None


class S3FileStore(FileStore):
    def __init__(self, client, bucket, prefix="", acl=None):
        self.client, self.bucket, self.acl = client, bucket, acl
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_settings(cls, settings):
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise ConfigurationError(
                "kinto.attachment.aws.bucket_name needs boto3: pip install 'kinto_server[s3]'"
            ) from None

        def value(name):
            return settings.get(f"attachment.aws.{name}") or None

        client = boto3.client(
            "s3",
            aws_access_key_id=value("access_key"),
            aws_secret_access_key=value("secret_key"),
            endpoint_url=value("endpoint_url"),
            region_name=value("region") or "us-east-1",
            config=Config(retries={"max_attempts": 3}, connect_timeout=5, read_timeout=30),
        )
        return cls(client, value("bucket_name"), value("prefix") or "", value("acl"))

    def _key(self, key):
        return self.prefix + key

    def _get(self, key, byte_range=None):
        options = {"Range": byte_range} if byte_range else {}
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key), **options)

    def save(self, key, source, *, mimetype):
        extra = {"ContentType": mimetype}
        if self.acl:
            extra["ACL"] = self.acl
        self.client.upload_file(source, self.bucket, self._key(key), ExtraArgs=extra)
        os.unlink(source)

    def open(self, key):
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError:
            return None
        size = head["ContentLength"]
        return StoredFile(_Reader(self, key, size), size)

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_all(self):
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            keys = [{"Key": found["Key"]} for found in page.get("Contents", ())]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})

    def heartbeat(self):
        probe = self._key(f".heartbeat-{uuid.uuid4().hex}")
        try:
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"ok")
            found = self.client.get_object(Bucket=self.bucket, Key=probe)["Body"].read() == b"ok"
            self.client.delete_object(Bucket=self.bucket, Key=probe)
            return found
        except Exception:  # noqa: BLE001 - any failure of the store is a failed heartbeat
            with contextlib.suppress(Exception):
                self.client.delete_object(Bucket=self.bucket, Key=probe)
            return False
