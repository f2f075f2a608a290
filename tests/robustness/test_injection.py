"""SQL and JSON-path injection through every place a request names something:
filter fields and values, sort fields, ids, _fields, bodies. The data must
come out untouched on every backend."""

from urllib.parse import quote

import pytest

from tests.support import ALICE, create_bucket, create_collection, records_url

NASTY = [
    "a'); DROP TABLE objects; --",
    "x' OR '1'='1",
    "data->>'n'",
    "n}'::jsonb) OR TRUE --",
    "{n}",
    'a"b',
    "a\\b",
    "%",
    "_",
    "a.b'.c",
    "last_modified; DELETE FROM objects",
    "id) OR (1=1",
]
TEMPLATES = [
    "{}=1",
    "in_{}=1,2",
    "gt_{}=0",
    "like_{}=a*",
    "has_{}=true",
    "contains_{}=1",
    "_sort={}",
    "_sort=-{}",
    "_fields={}",
    "n={}",
    "like_s={}",
    "in_id={}",
]


@pytest.fixture
def app(app):
    create_bucket(app)
    create_collection(app)
    for i in range(3):
        app.put_json(f"{records_url()}/r{i}", {"data": {"n": i, "s": f"v{i}"}}, headers=ALICE)
    return app


def snapshot(app):
    return app.get(f"{records_url()}?_since=0&_sort=id", headers=ALICE).json["data"]


@pytest.mark.parametrize("template", TEMPLATES)
def test_injection_through_the_querystring_leaves_data_untouched(app, template):
    before = snapshot(app)
    for nasty in NASTY:
        query = template.format(quote(nasty, safe=""))
        response = app.get(f"{records_url()}?{query}", headers=ALICE, expect_errors=True)
        assert response.status_code in (200, 400), (nasty, response.body)
        if response.status_code == 200:
            assert {r["id"] for r in response.json["data"]} <= {"r0", "r1", "r2"}
    assert snapshot(app) == before


def test_injection_through_ids_and_bodies_leaves_data_untouched(app):
    before = snapshot(app)
    created_ids = set()
    for nasty in NASTY:
        quoted = quote(nasty, safe="")
        for url in (
            f"{records_url()}/{quoted}",
            f"/v1/buckets/{quoted}",
            f"/v1/buckets/b/collections/{quoted}/records",
        ):
            assert app.get(url, headers=ALICE, expect_errors=True).status_code in (400, 403, 404)
        created = app.post_json(records_url(), {"data": {nasty: nasty, "x": {nasty: [nasty]}}}, headers=ALICE)
        stored = app.get(f"{records_url()}/{created.json['data']['id']}", headers=ALICE).json["data"]
        assert stored[nasty] == nasty and stored["x"] == {nasty: [nasty]}
        created_ids.add(stored["id"])
    assert [r for r in snapshot(app) if r["id"] not in created_ids] == before


def test_filters_match_nasty_values_literally(app):
    for nasty in NASTY:
        app.post_json(records_url(), {"data": {"s": nasty}}, headers=ALICE)
    for nasty in NASTY:
        response = app.get(records_url(), params={"s": nasty}, headers=ALICE)
        assert [r["s"] for r in response.json["data"]] == [nasty], nasty
    # "%" and "_" are literal in like_ filters, "*" is the only wildcard.
    assert [r["s"] for r in app.get(records_url(), params={"like_s": "%"}, headers=ALICE).json["data"]] == ["%"]
