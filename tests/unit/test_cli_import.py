"""``kinto_server import``: records from JSON lines into a collection, all or
nothing, as new writes a syncing client gets; on SQLite and PostgreSQL."""

import io

import pytest
import ujson
from pyramid.paster import get_app
from webtest import TestApp

from kinto_server.scripts import cli, import_records
from tests.backends import BACKENDS, cli_ini
from tests.support import auth

C = "/buckets/b/collections/c"
ALICE = auth("alice")


@pytest.fixture(params=[b for b in BACKENDS if b != "memory"])
def ini(request, tmp_path):
    return cli_ini(tmp_path, request.param)


@pytest.fixture
def app(ini):
    found = TestApp(get_app(str(ini), "main"))
    found.put("/v1/buckets/b", headers=ALICE)
    found.put("/v1/buckets/b/collections/c", headers=ALICE)
    yield found
    found.app.registry.stream_server.stop()


def jsonl(tmp_path, *records, name="records.jsonl"):
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else ujson.dumps(r)) + "\n" for r in records))
    return str(path)


def run(ini, path, capsys, bucket="b", collection="c"):
    code = cli.main(["import", "--ini", str(ini), "--bucket", bucket, "--collection", collection, path])
    out, err = capsys.readouterr()
    return code, out, err


def test_records_are_imported_as_new_writes_a_sync_client_gets(app, ini, tmp_path, capsys):
    before = app.get(f"/v1{C}/records", headers=ALICE).headers["ETag"]
    path = jsonl(tmp_path, {"id": "a", "title": "one", "last_modified": 1}, {"title": "no id"}, "", {"id": "z"})
    code, out, _ = run(ini, path, capsys)
    assert code == 0
    assert f"Imported 3 records into {C} in " in out
    listed = app.get(f"/v1{C}/records?_since={before.strip(chr(34))}&_sort=last_modified", headers=ALICE)
    records = listed.json["data"]
    assert [r.get("title") for r in records] == ["one", "no id", None]
    assert records[0]["id"] == "a" and records[2]["id"] == "z" and len(records[1]["id"]) == 36
    stamps = [r["last_modified"] for r in records]
    assert int(before.strip('"')) < stamps[0] < stamps[1] < stamps[2]
    assert listed.headers["ETag"] == f'"{stamps[2]}"'
    assert f"timestamps {stamps[0]} to {stamps[2]}." in out
    assert app.get(f"/v1{C}/records/a", headers=ALICE).json["data"]["title"] == "one"


def test_the_change_stream_log_has_the_creates(app, ini, tmp_path, capsys):
    storage = app.app.registry.storage
    cursor = storage.changes_after(None, 10).cursor
    assert run(ini, jsonl(tmp_path, {"id": "a"}, {"id": "b"}), capsys)[0] == 0
    changes = storage.changes_after(cursor, 10).changes
    assert [(c.action, c.parent_id, c.obj["id"]) for c in changes] == [("create", C, "a"), ("create", C, "b")]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"id": "x"', "line 3: not JSON"),
        ("[1, 2]", "line 3: a record is a JSON object, not list"),
        ('{"id": "no spaces"}', "line 3: invalid record id 'no spaces'"),
        ('{"id": "a"}', "line 3: record 'a' is already on an earlier line"),
        ('{"id": "stored"}', f"line 3: record 'stored' is already stored in {C}"),
    ],
)
def test_a_bad_line_stops_the_import_with_its_number_and_nothing_is_stored(app, ini, tmp_path, capsys, line, reason):
    app.put_json(f"/v1{C}/records/stored", {"data": {"v": 1}}, headers=ALICE)
    path = jsonl(tmp_path, {"id": "a"}, {"id": "b"}, line, {"id": "c"})
    code, _, err = run(ini, path, capsys)
    assert code == 1
    assert f"kinto_server: Nothing was imported: {reason}" in err
    ids = [r["id"] for r in app.get(f"/v1{C}/records", headers=ALICE).json["data"]]
    assert ids == ["stored"]


def test_an_existing_id_past_the_first_statements_is_found_with_its_line(app, ini, tmp_path, capsys):
    app.put_json(f"/v1{C}/records/r07000", {"data": {}}, headers=ALICE)
    path = jsonl(tmp_path, *({"id": f"r{i:05}"} for i in range(8_000)))
    code, _, err = run(ini, path, capsys)
    assert code == 1
    assert f"line 7001: record 'r07000' is already stored in {C}" in err
    assert app.head(f"/v1{C}/records", headers=ALICE).headers["Total-Records"] == "1"


def test_records_are_checked_against_the_collection_schema(tmp_path, ini, capsys):
    ini.write_text(
        ini.read_text().replace("[app:main]\n", "[app:main]\nkinto.experimental_collection_schema_validation = true\n")
    )
    app = TestApp(get_app(str(ini), "main"))
    try:
        app.put("/v1/buckets/b", headers=ALICE)
        schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
        collection = app.put_json(f"/v1{C}", {"data": {"schema": schema}}, headers=ALICE).json["data"]
        code, _, err = run(ini, jsonl(tmp_path, {"id": "ok", "n": 1}, {"id": "bad", "n": "one"}), capsys)
        assert code == 1
        assert "Nothing was imported: line 2: field n: 'one' is not of type 'integer'" in err
        assert run(ini, jsonl(tmp_path, {"id": "ok", "n": 1}), capsys)[0] == 0
        stored = app.get(f"/v1{C}/records/ok", headers=ALICE).json["data"]
        assert stored["schema"] == collection["last_modified"]  # as the API marks it
    finally:
        app.app.registry.stream_server.stop()


def test_progress_is_reported_and_standard_input_is_read(app, ini, monkeypatch, capsys):
    monkeypatch.setattr(import_records, "PROGRESS_LINES_EVERY", 2_000)
    lines = "".join(ujson.dumps({"id": f"r{i}"}) + "\n" for i in range(5_000))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(lines.encode())))
    code, out, err = run(ini, "-", capsys)
    assert code == 0
    assert "Imported 5,000 records" in out
    assert "2,000 records read" in err and "4,000 records read" in err
    assert app.head(f"/v1{C}/records", headers=ALICE).headers["Total-Records"] == "5000"


def test_a_missing_collection_or_file_is_a_clear_error(app, ini, tmp_path, capsys):
    code, _, err = run(ini, jsonl(tmp_path, {"id": "a"}), capsys, collection="nope")
    assert code == 1
    assert (
        "There is no collection /buckets/b/collections/nope in " in err
        and "create it first (PUT /v1/buckets/b/collections/nope" in err
    )
    code, _, err = run(ini, str(tmp_path / "absent.jsonl"), capsys)
    assert code == 1 and "Cannot read " in err and "absent.jsonl: No such file or directory" in err


def test_a_memory_backend_is_refused(tmp_path, capsys):
    ini = tmp_path / "memory.ini"
    cli.main(["init", "--ini", str(ini), "--backend", "memory"])
    code, _, err = run(ini, jsonl(tmp_path, {"id": "a"}), capsys)
    assert code == 1
    assert "keeps nothing once this command ends" in err
