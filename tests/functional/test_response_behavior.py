"""``Response-Behavior`` on PATCH, as Kinto 26.5 answers it (compared over
HTTP): ``full`` (the default), ``light`` (the sent fields the PATCH changed),
``diff`` (the sent fields stored otherwise than sent); any other value is a
400 before the PATCH is tried. Where Kinto answers 500 (a JSON merge patch or
a group with ``light``; ``light``/``diff`` with the history plugin on), we
answer as for any other PATCH."""

import pytest

from tests.support import ALICE, BOB, assert_error, create_bucket, create_collection

RECORD = "/v1/buckets/b/collections/c/records/r"


@pytest.fixture
def app(make_app):
    app = make_app(**{"kinto.includes": "kinto_server.plugins.default_bucket kinto_server.plugins.history"})
    create_bucket(app)
    create_collection(app)
    app.put_json(RECORD, {"data": {"a": 1, "b": 2, "c": 3}}, headers=ALICE)
    return app


def patch(app, behavior, body, content_type="application/json", url=RECORD, **kwargs):
    headers = {**ALICE, "Content-Type": content_type}
    if behavior is not None:
        headers["Response-Behavior"] = behavior
    return app.patch(url, body if isinstance(body, str) else app.JSONEncoder().encode(body), headers=headers, **kwargs)


def test_full_is_the_default_answer(app):
    full = patch(app, "full", {"data": {"a": 10}}).json
    assert full["data"]["a"] == 10 and full["data"]["c"] == 3 and "permissions" in full


def test_light_answers_the_sent_fields_that_changed(app):
    response = patch(app, "light", {"data": {"a": 10, "b": 2, "d": 4, "last_modified": 5}})
    stored = app.get(RECORD, headers=ALICE).json["data"]
    assert response.json == {"data": {"a": 10, "d": 4, "last_modified": stored["last_modified"]}}
    assert response.headers["ETag"] == f'"{stored["last_modified"]}"'


def test_diff_answers_the_sent_fields_stored_otherwise(app):
    response = patch(app, "diff", {"data": {"a": 10, "b": 2, "d": 4, "last_modified": 5}})
    stored = app.get(RECORD, headers=ALICE).json["data"]
    assert response.json == {"data": {"last_modified": stored["last_modified"]}}


def test_a_patch_that_changes_nothing_answers_nothing(app):
    assert patch(app, "light", {"data": {"b": 2}}).json == {"data": {}}
    assert patch(app, "diff", {"data": {"b": 2}}).json == {"data": {}}
    assert patch(app, "light", {"permissions": {"read": ["system.Everyone"]}}).json == {"data": {}}


def test_a_json_patch_compares_the_whole_patched_object(app):
    ops = [{"op": "replace", "path": "/data/a", "value": 12}]
    light = patch(app, "light", ops, "application/json-patch+json").json["data"]
    assert set(light) == {"a", "last_modified"} and light["a"] == 12
    ops = [{"op": "replace", "path": "/data/a", "value": 13}]
    assert set(patch(app, "diff", ops, "application/json-patch+json").json["data"]) == {"last_modified"}


def test_a_merge_patch_and_a_group_get_their_light_answer(app):
    # Kinto answers 500 to both.
    light = patch(app, "light", {"data": {"a": 11, "c": None}}, "application/merge-patch+json").json
    assert light == {"data": {"a": 11, "c": None}}
    assert "c" not in app.get(RECORD, headers=ALICE).json["data"]
    app.put_json("/v1/buckets/b/groups/g", {"data": {"members": []}}, headers=ALICE)
    group = patch(app, "light", {"data": {"members": ["x"]}}, url="/v1/buckets/b/groups/g").json
    assert group == {"data": {"members": ["x"]}}


def test_buckets_and_collections_answer_light_too(app):
    assert patch(app, "light", {"data": {"x": 1}}, url="/v1/buckets/b").json == {"data": {"x": 1}}
    assert patch(app, "light", {"data": {"k": 1}}, url="/v1/buckets/b/collections/c").json == {"data": {"k": 1}}


def test_with_history_on_light_and_diff_answer_and_are_recorded(app):
    patch(app, "diff", {"data": {"a": 20}})
    entries = app.get("/v1/buckets/b/history", headers=ALICE).json["data"]
    assert entries[0]["action"] == "update" and entries[0]["target"]["data"]["a"] == 20


def test_an_unknown_behavior_is_a_400_naming_the_header(app):
    body = assert_error(patch(app, "LIGHT", {"data": {"a": 1}}, status=400), 400, 107)
    assert body["message"] == 'Response-Behavior in header: "LIGHT" is not one of full, light, diff'
    assert body["details"] == [
        {"location": "header", "name": "Response-Behavior", "description": '"LIGHT" is not one of full, light, diff'}
    ]
    missing = patch(app, "bogus", {"data": {"a": 1}}, url="/v1/buckets/b/collections/c/records/nope", status=400)
    assert_error(missing, 400, 107)
    both = patch(app, "bogus", {"data": [1]}, status=400).json
    assert [d["location"] for d in both["details"]] == ["header", "body"]
    assert app.get(RECORD, headers=ALICE).json["data"]["a"] == 1


def test_an_empty_behavior_is_full_and_other_methods_ignore_it(app):
    assert "permissions" in patch(app, "", {"data": {"a": 2}}).json
    headers = {**ALICE, "Response-Behavior": "bogus"}
    assert "permissions" in app.put_json(RECORD, {"data": {"a": 3}}, headers=headers).json
    app.delete(RECORD, headers=headers, status=200)


def test_in_a_batch_each_request_or_the_defaults_choose(app):
    requests = [
        {"method": "PATCH", "path": RECORD[3:], "headers": {"Response-Behavior": "light"}, "body": {"data": {"q": 1}}}
    ]
    answer = app.post_json("/v1/batch", {"requests": requests}, headers=ALICE).json["responses"][0]
    assert answer["body"] == {"data": {"q": 1}}
    body = {
        "defaults": {"headers": {"Response-Behavior": "diff"}},
        "requests": [{"method": "PATCH", "path": RECORD[3:], "body": {"data": {"q": 2}}}],
    }
    assert app.post_json("/v1/batch", body, headers=ALICE).json["responses"][0]["body"] == {"data": {}}


def test_who_may_not_write_is_refused_whatever_the_behavior(app):
    patch_headers = {**BOB, "Content-Type": "application/json", "Response-Behavior": "light"}
    app.patch(RECORD, '{"data": {"a": 9}}', headers=patch_headers, status=403)
