"""GET /v1/__counters__ (kinto.plugins.counters)."""

from tests.support import ALICE

RECORDS = "/v1/buckets/b/collections/c/records"


def test_counters_count_objects_and_tombstones_for_anyone(make_app):
    app = make_app(**{"kinto.includes": "kinto.plugins.counters"})
    assert app.get("/v1/__counters__").json == {"objects": {}, "tombstones": {}}
    app.put("/v1/buckets/b", headers=ALICE)
    app.put("/v1/buckets/b/collections/c", headers=ALICE)
    for rid in ("r1", "r2", "r3"):
        app.put_json(f"{RECORDS}/{rid}", {"data": {}}, headers=ALICE)
    app.delete(f"{RECORDS}/r1", headers=ALICE)
    response = app.get("/v1/__counters__")
    assert response.json == {
        "objects": {"bucket": 1, "collection": 1, "record": 2},
        "tombstones": {"record": 1},
    }
    assert list(response.json["objects"]) == ["bucket", "collection", "record"]  # Kinto's order.
    assert "counters_endpoint" in app.get("/v1/").json["capabilities"]


def test_counters_are_off_unless_included(app):
    app.get("/v1/__counters__", status=404)
