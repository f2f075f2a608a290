"""kinto-http.py's attachment calls over real HTTP, on every backend:
``add_attachment``, ``download_attachment`` (from the capability's
``base_url`` and the record's relative ``location``), ``remove_attachment``.

kinto-http downloads without credentials (kinto-attachment's files are
public): it gets what anyone may read. A private record's file is served to
its readers only."""

from pathlib import Path

import pytest
import requests
from kinto_http import Client, KintoException

pytestmark = pytest.mark.integration


def alices(url, bucket, collection):
    """Alice's client, once she made the bucket and its collection."""
    client = Client(server_url=url, auth=("alice", "secret"), bucket=bucket, collection=collection)
    client.create_bucket()
    client.create_collection()
    return client


def test_kinto_http_adds_downloads_and_removes_an_attachment(attachment_server_url, tmp_path):
    client = alices(attachment_server_url, "mozilla", "payments")
    source = tmp_path / "report.json"
    source.write_bytes(b'{"total": 42}')
    client.add_attachment(
        id="abc",
        filepath=str(source),
        data={"secret": "psst"},
        permissions={"read": ["system.Everyone"]},
        mimetype="application/json",
    )
    record = client.get_record(id="abc")
    assert record["data"]["secret"] == "psst"
    assert record["data"]["attachment"]["filename"] == "report.json"
    assert record["data"]["attachment"]["size"] == 13
    downloaded = client.download_attachment(record["data"], filepath=str(tmp_path / "copy.json"))
    assert Path(downloaded).read_bytes() == b'{"total": 42}'
    client.remove_attachment(id="abc")
    assert client.get_record(id="abc")["data"]["attachment"] is None


def test_a_private_records_file_is_served_to_its_readers_only(attachment_server_url, tmp_path):
    client = alices(attachment_server_url, "mine", "docs")
    source = tmp_path / "notes.txt"
    source.write_bytes(b"private")
    client.add_attachment(id="n", filepath=str(source))
    location = client.get_record(id="n")["data"]["attachment"]["location"]
    url = client.server_info()["capabilities"]["attachments"]["base_url"] + location
    assert requests.get(url, auth=("alice", "secret")).content == b"private"
    assert requests.get(url, auth=("bob", "secret")).status_code == 403
    assert requests.get(url).status_code == 401
    bob = Client(server_url=attachment_server_url, auth=("bob", "secret"), bucket="mine", collection="docs")
    with pytest.raises(KintoException) as denied:
        bob.add_attachment(id="n", filepath=str(source))
    assert denied.value.response.status_code == 403
    client.remove_attachment(id="n")
    assert requests.get(url, auth=("alice", "secret")).status_code == 404
