"""Files attached to records (``kinto_attachment``), on every backend:
kinto-attachment's API and errors, downloads checked against the record's
``read`` permission, files that follow their records, and uploads that fail
leaving neither a file nor a change."""

import hashlib
import shutil

import pytest

from tests.functional.test_changes_stream import STREAM_SETTINGS, open_stream
from tests.support import ALICE, BOB, assert_error, auth, create_bucket, create_collection, user_id

RECORDS = "/v1/buckets/b/collections/c/records"
RECORD = RECORDS + "/r1"
HELLO = b"hello world"


@pytest.fixture
def files(tmp_path):
    return tmp_path / "files"


@pytest.fixture
def make(make_app, files):
    def make(**settings):
        app = make_app(
            **{
                "kinto.includes": "kinto_attachment kinto.plugins.history kinto.plugins.flush",
                "kinto.attachment.base_path": str(files),
                **settings,
            }
        )
        create_bucket(app)
        create_collection(app)
        return app

    return make


@pytest.fixture
def app(make):
    return make()


def stored(files):
    """The files in the store (but uploads in progress)."""
    return sorted(str(p.relative_to(files)) for p in files.rglob("*") if p.is_file() and ".incoming" not in p.parts)


def attach(app, path=RECORD, content=HELLO, filename="hello.txt", headers=ALICE, status=None, **fields):
    return app.post(
        path + "/attachment",
        fields,
        upload_files=[("attachment", filename, content)],
        headers=headers,
        status=status or "*",
    )


def test_attaching_creates_the_record_with_the_files_metadata(app, files):
    response = attach(app, data='{"title": "t"}', permissions='{"read": ["system.Everyone"]}', status=201)
    metadata = response.json
    assert response.headers["Location"].endswith(RECORD)
    assert metadata["filename"] == "hello.txt"
    assert metadata["hash"] == hashlib.sha256(HELLO).hexdigest()
    assert metadata["size"] == len(HELLO)
    assert metadata["mimetype"] == "text/plain"
    assert metadata["location"].startswith("b/c/") and metadata["location"].endswith(".txt")
    record = app.get(RECORD, headers=ALICE).json
    assert record["data"]["title"] == "t"
    assert record["data"]["attachment"] == metadata
    assert record["permissions"]["read"] == ["system.Everyone"]
    assert stored(files) == [metadata["location"]]
    assert (files / metadata["location"]).read_bytes() == HELLO


def test_attaching_again_replaces_the_file_once_committed(app, files):
    first = attach(app, status=201).json
    app.patch_json(RECORD, {"data": {"kept": True}}, headers=ALICE)
    second = attach(app, content=b"second", filename="two.json", status=200).json
    assert second["location"] != first["location"]
    assert stored(files) == [second["location"]]
    data = app.get(RECORD, headers=ALICE).json["data"]
    assert data["kept"] is True and data["attachment"] == second


def test_keep_old_files_keeps_what_is_replaced_or_deleted(make, files):
    app = make(**{"kinto.attachment.keep_old_files": "true"})
    first = attach(app, status=201).json
    second = attach(app, status=200).json
    app.delete(RECORD, headers=ALICE)
    assert stored(files) == sorted([first["location"], second["location"]])


def test_removing_the_attachment_leaves_null_and_removes_the_file(app, files):
    attach(app, status=201)
    response = app.delete(RECORD + "/attachment", headers=ALICE, status=204)
    assert response.body == b""
    assert app.get(RECORD, headers=ALICE).json["data"]["attachment"] is None
    assert stored(files) == []
    app.delete(RECORD + "/attachment", headers=ALICE, status=204)  # again: nothing to remove


def test_removing_the_attachment_of_a_missing_record_is_a_404_and_creates_nothing(app):
    # kinto-attachment answers 204 and creates the record: we do not.
    assert_error(app.delete(RECORDS + "/nope/attachment", headers=ALICE, status=404), 404, 110)
    app.get(RECORDS + "/nope", headers=ALICE, status=404)


@pytest.mark.parametrize(
    ("kwargs", "errno", "message"),
    [
        ({"data": "{nope"}, 109, "body: data is not valid JSON (Expecting property name enclosed in double quotes"),
        ({"data": "[1]"}, 109, "body: data must be a JSON object"),
        ({"foo": "1"}, 109, "body: 'foo' not in ('data', 'permissions')"),
        ({"filename": "x.exe"}, 107, "body: File extension is not allowed."),
        ({"filename": "noextension"}, 107, "body: File extension is not allowed."),
        ({"permissions": '{"read": "bob"}'}, 107, "permissions.read in body"),
    ],
)
def test_an_invalid_upload_is_a_400_and_changes_nothing(app, files, kwargs, errno, message):
    response = attach(app, **kwargs)
    assert response.status_code == 400
    assert response.json["errno"] == errno
    assert response.json["message"].startswith(message)
    assert stored(files) == []
    app.get(RECORD, headers=ALICE, status=404)


def test_a_body_that_is_not_multipart_is_a_400(app):
    response = app.post_json(RECORD + "/attachment", {"data": {}}, headers=ALICE, status=400)
    assert response.json == {
        "code": 400,
        "errno": 107,
        "error": "Bad Request",
        "message": "Content-Type should be multipart/form-data",
    }


def test_a_form_without_the_file_is_a_400(app):
    multipart = {"headers": ALICE, "status": 400, "content_type": "multipart/form-data"}
    response = app.post(RECORD + "/attachment", {"data": "{}"}, **multipart)
    assert response.json["message"] == "Attachment missing."
    response = app.post(RECORD + "/attachment", {"attachment": "not a file"}, **multipart)
    assert response.json["message"] == "body: Filename is required."


def test_a_file_over_the_size_limit_is_refused_globally_and_per_collection(make, files):
    app = make(**{"kinto.attachment.max_size_bytes": "10", "kinto.attachment.resources.b.big.max_size_bytes": "100"})
    create_collection(app, collection_id="big")
    response = attach(app, content=b"x" * 11, status=400)
    assert response.json["message"] == "body: File size (11 bytes) exceeds the limit (10 bytes)."
    attach(app, path="/v1/buckets/b/collections/big/records/r", content=b"x" * 11, status=201)
    assert len(stored(files)) == 1


def test_uploads_have_their_own_body_limit(make):
    app = make()
    two_mib = b"x" * (2 * 1024 * 1024)  # over max_request_body_bytes (1 MiB), which JSON bodies keep
    assert attach(app, content=two_mib, status=201).json["size"] == len(two_mib)
    assert_error(app.put_json(RECORDS + "/big", {"data": {"x": two_mib.decode()}}, headers=ALICE, status=413), 413, 113)
    small = make(**{"kinto.attachment.max_upload_bytes": "1000"})
    response = attach(small, content=b"x" * 2000, status=413)
    assert_error(response, 413, 113)
    assert "attachment.max_upload_bytes" in response.json["message"]


def test_attaching_needs_write_or_record_create(app, files):
    attach(app, status=201)
    assert_error(attach(app, headers=BOB, status=403), 403, 121)
    assert_error(attach(app, path=RECORDS + "/bobs", headers=BOB, status=403), 403, 121)
    assert_error(attach(app, headers={}, status=401), 401, 104)
    app.patch_json("/v1/buckets/b/collections/c", {"permissions": {"record:create": [user_id("bob")]}}, headers=ALICE)
    attach(app, path=RECORDS + "/bobs", headers=BOB, status=201)
    assert len(stored(files)) == 2


def test_a_missing_bucket_is_a_403_and_a_missing_collection_a_404_leaving_no_file(app, files):
    assert_error(attach(app, path="/v1/buckets/nope/collections/c/records/r", status=403), 403, 121)
    assert_error(attach(app, path="/v1/buckets/b/collections/nope/records/r", status=404), 404, 111)
    assert stored(files) == []


def test_a_record_rejected_by_the_collection_schema_leaves_no_file(make, files):
    app = make(**{"kinto.experimental_collection_schema_validation": "true"})
    schema = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
    app.patch_json("/v1/buckets/b/collections/c", {"data": {"schema": schema}}, headers=ALICE)
    assert attach(app).status_code == 400  # the record has no title
    assert stored(files) == []
    app.get(RECORD, headers=ALICE, status=404)
    attach(app, data='{"title": "t"}', status=201)
    assert len(stored(files)) == 1


def test_the_metadata_cannot_be_changed_by_hand_but_dropping_it_frees_the_file(app, files):
    attach(app, status=201)
    response = app.patch_json(RECORD, {"data": {"attachment": {"location": "elsewhere"}}}, headers=ALICE, status=400)
    assert response.json["message"] == "Attachment metadata cannot be modified."
    assert len(stored(files)) == 1
    app.put_json(RECORD, {"data": {"title": "no file now"}}, headers=ALICE, status=200)
    assert stored(files) == []


def test_a_client_filename_is_never_a_path(app, files):
    metadata = attach(app, filename="../../etc/pass wd.txt", status=201).json
    assert metadata["filename"] == "../../etc/pass wd.txt"
    assert ".." not in metadata["location"] and metadata["location"].startswith("b/c/")
    assert stored(files) == [metadata["location"]]


@pytest.mark.parametrize("how", ["record", "plural", "collection", "bucket"])
def test_deleting_the_record_or_what_holds_it_removes_its_files(app, files, how):
    attach(app, status=201)
    attach(app, path=RECORDS + "/r2", status=201)
    create_collection(app, collection_id="other")
    kept = attach(app, path="/v1/buckets/b/collections/other/records/k", status=201).json
    path = {
        "record": RECORD,
        "plural": RECORDS,
        "collection": "/v1/buckets/b/collections/c",
        "bucket": "/v1/buckets/b",
    }[how]
    app.delete(path, headers=ALICE, status=200)
    expected = [] if how == "bucket" else [kept["location"]]
    if how == "record":
        expected = sorted(
            [kept["location"], app.get(RECORDS + "/r2", headers=ALICE).json["data"]["attachment"]["location"]]
        )
    assert stored(files) == expected


def test_flush_removes_the_files_too(app, files):
    attach(app, status=201)
    app.post("/v1/__flush__", status=202)
    assert stored(files) == []


def test_the_history_and_the_change_list_carry_the_attachment(app):
    metadata = attach(app, status=201).json
    entry = app.get("/v1/buckets/b/history?resource_name=record", headers=ALICE).json["data"][0]
    assert entry["target"]["data"]["attachment"] == metadata
    changes = app.get(RECORDS + "?_since=0", headers=ALICE).json["data"]
    assert changes[0]["attachment"] == metadata


def test_the_change_stream_carries_the_attachment(make_app, files):
    includes = STREAM_SETTINGS["kinto.includes"] + " kinto_attachment"
    app = make_app(**{**STREAM_SETTINGS, "kinto.includes": includes, "kinto.attachment.base_path": str(files)})
    create_bucket(app)
    create_collection(app)
    stream = open_stream(app)
    try:
        metadata = attach(app, status=201).json
        (change,) = stream.changes(1)
        assert change.data["data"]["attachment"] == metadata
    finally:
        stream.close()
        app.app.registry.stream_server.stop()


def test_downloads_check_the_records_read_permission(app):
    metadata = attach(app, status=201).json
    for path in (RECORD + "/attachment", "/v1/attachments/" + metadata["location"]):
        response = app.get(path, headers=ALICE, status=200)
        assert response.body == HELLO
        assert response.headers["Content-Type"] == "text/plain"
        assert response.headers["ETag"] == f'"{metadata["hash"]}"'
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response.headers["Content-Disposition"] == "inline; filename*=UTF-8''hello.txt"
        assert_error(app.get(path, headers=BOB, status=403), 403, 121)
        assert_error(app.get(path, status=401), 401, 104)
    app.patch_json(RECORD, {"permissions": {"read": [user_id("bob")]}}, headers=ALICE)
    assert app.get("/v1/attachments/" + metadata["location"], headers=BOB).body == HELLO


def test_downloads_answer_304_and_ranges(app):
    metadata = attach(app, status=201).json
    url = "/v1/attachments/" + metadata["location"]
    app.get(url, headers={**ALICE, "If-None-Match": f'"{metadata["hash"]}"'}, status=304)
    partial = app.get(url, headers={**ALICE, "Range": "bytes=6-"}, status=206)
    assert partial.body == b"world"
    assert partial.headers["Content-Range"] == "bytes 6-10/11"
    outside = app.get(url, headers={**ALICE, "Range": "bytes=50-60"}, status=416)
    assert outside.json["message"] == "Requested range not satisfiable: the file has 11 bytes."
    assert outside.headers["Content-Range"] == "bytes */11"


@pytest.mark.parametrize(
    "path", ["/v1/attachments/b/c/nothere.txt", "/v1/attachments/../../etc/passwd", RECORDS + "/none/attachment"]
)
def test_a_download_of_nothing_is_a_404(app, path):
    attach(app, status=201)
    response = app.get(path, headers=ALICE, expect_errors=True)
    assert response.status_code == 404
    assert response.json["errno"] in (110, 111)


def test_a_removed_file_is_no_longer_served(app):
    location = attach(app, status=201).json["location"]
    app.delete(RECORD + "/attachment", headers=ALICE, status=204)
    for path in ("/v1/attachments/" + location, RECORD + "/attachment"):
        assert app.get(path, headers=ALICE, status=404).json["errno"] == 111


def test_a_record_without_a_file_has_nothing_to_download(app):
    app.put_json(RECORD, {"data": {}}, headers=ALICE)
    assert (
        app.get(RECORD + "/attachment", headers=ALICE, status=404).json["message"] == "This record has no attachment."
    )


def test_the_capability_points_downloads_here_or_at_the_public_base_url(make):
    app = make()
    capability = app.get("/v1/").json["capabilities"]["attachments"]
    assert capability["base_url"] == "http://localhost:80/v1/attachments/"
    assert capability["description"] == "Add file attachments to records"
    public = make(**{"kinto.attachment.base_url": "https://cdn.example.com/files"})
    assert public.get("/v1/").json["capabilities"]["attachments"]["base_url"] == "https://cdn.example.com/files/"
    metadata = attach(public, status=201).json
    public.get("/v1/attachments/" + metadata["location"], headers=ALICE, status=404)  # served by the CDN


def test_the_heartbeat_checks_the_file_store(make, files):
    app = make()
    assert app.get("/v1/__heartbeat__").json["attachments"] is True
    shutil.rmtree(files, ignore_errors=True)
    files.write_text("not a folder")  # the store's folder can no longer be written
    response = app.get("/v1/__heartbeat__", status=503)
    assert response.json["attachments"] is False


def test_a_kinto_attachment_setting_this_server_does_not_follow_is_warned_about(make, caplog):
    with caplog.at_level("WARNING", logger="kinto_server.plugins.attachments"):
        make(**{"kinto.attachment.gzipped": "true", "kinto.attachment.keep_old_files": "true"})
    assert "kinto.attachment.gzipped is not supported by this server: ignored" in caplog.text
    assert "keep_old_files" not in caplog.text


def test_deleting_a_users_data_removes_the_files_of_what_only_they_could_write(make, files):
    app = make(**{"kinto.user-data_delete_principals": user_id("admin")})
    app.put_json("/v1/buckets/bobs", {}, headers=BOB)
    app.put("/v1/buckets/bobs/collections/c", headers=BOB)
    attach(app, path="/v1/buckets/bobs/collections/c/records/r", headers=BOB, status=201)
    kept = attach(app, status=201).json  # alice's
    app.delete(f"/v1/__user_data__/{user_id('bob')}", headers=auth("admin"), status=200)
    assert stored(files) == [kept["location"]]


def test_a_batch_removes_the_files_of_what_it_deleted_and_only_that(app, files):
    first = attach(app, status=201).json
    second = attach(app, path=RECORDS + "/r2", status=201).json
    requests = [
        {"method": "DELETE", "path": "/buckets/b/collections/c/records/r1"},
        {"method": "DELETE", "path": "/buckets/b/collections/c/records/nothere"},  # fails on its own
        {"method": "PUT", "path": "/buckets/b/collections/c/records/r2", "body": {"data": {"attachment": {"x": 1}}}},
    ]
    responses = app.post_json("/v1/batch", {"requests": requests}, headers=ALICE).json["responses"]
    assert [response["status"] for response in responses] == [200, 404, 400]
    assert stored(files) == [second["location"]]
    assert first["location"] not in stored(files)
    assert app.get(RECORDS + "/r2", headers=ALICE).json["data"]["attachment"] == second
