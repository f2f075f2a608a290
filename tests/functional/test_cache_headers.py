"""Cache headers of record reads, as Kinto 26.5 sends them (compared over
HTTP): anonymous reads of a collection's records may be cached for the
collection's cache_expires, else the most precise record_cache_expires_seconds
setting; everything else stays no-cache, no-store."""

import pytest

from tests.support import ALICE

SETTINGS = {
    "kinto.record_cache_expires_seconds": "10",
    "kinto.cb.record_cache_expires_seconds": "20",
    "kinto.cb.precise.record_cache_expires_seconds": "40",
    # Kinto 26.5 reads neither of these older spellings.
    "kinto.cb_record_cache_expires_seconds": "98",
    "kinto.cb_plain_record_cache_expires_seconds": "99",
}
PUBLIC = {"permissions": {"read": ["system.Everyone"]}}


@pytest.fixture
def app(make_app):
    app = make_app(**SETTINGS)
    for bucket in ("cb", "other"):
        app.put_json(f"/v1/buckets/{bucket}", PUBLIC, headers=ALICE)
    app.put_json("/v1/buckets/cb/collections/own", {"data": {"cache_expires": 120}}, headers=ALICE)
    for collection in ("cb/collections/plain", "cb/collections/precise", "other/collections/x"):
        app.put_json(f"/v1/buckets/{collection}", {}, headers=ALICE)
    app.put_json("/v1/buckets/cb/collections/own/records/r", {"data": {"a": 1}}, headers=ALICE)
    return app


def cache_control(response):
    return response.headers.get("Cache-Control")


@pytest.mark.parametrize(
    ("collection", "seconds"),
    [
        ("cb/collections/own", 120),
        ("cb/collections/precise", 40),
        ("cb/collections/plain", 20),
        ("other/collections/x", 10),
    ],
)
def test_anonymous_record_lists_use_the_most_precise_expiry(app, collection, seconds):
    response = app.get(f"/v1/buckets/{collection}/records")
    assert cache_control(response) == f"max-age={seconds}"
    assert response.headers["Expires"].endswith(" GMT")
    assert cache_control(app.head(f"/v1/buckets/{collection}/records")) == f"max-age={seconds}"
    assert cache_control(app.get(f"/v1/buckets/{collection}/records?_since=1")) == f"max-age={seconds}"


def test_an_anonymous_record_read_is_cached_like_its_list(app):
    assert cache_control(app.get("/v1/buckets/cb/collections/own/records/r")) == "max-age=120"
    assert cache_control(app.get("/v1/buckets/cb/collections/own/records/r?_fields=a")) == "max-age=120"


def test_authenticated_reads_and_other_objects_are_not_cached(app):
    assert cache_control(app.get("/v1/buckets/cb/collections/own/records", headers=ALICE)) == "no-cache, no-store"
    assert cache_control(app.get("/v1/buckets/cb/collections/own/records/r", headers=ALICE)) == "no-cache, no-store"
    assert cache_control(app.get("/v1/buckets/cb/collections/own")) == "no-cache, no-store"
    assert cache_control(app.get("/v1/buckets/cb")) == "no-cache, no-store"
    assert "Cache-Control" not in app.get("/v1/buckets/cb/collections/own/records/nope", status=404).headers


def test_a_cache_expires_of_zero_yields_to_the_settings(app):
    app.patch_json("/v1/buckets/cb/collections/own", {"data": {"cache_expires": 0}}, headers=ALICE)
    assert cache_control(app.get("/v1/buckets/cb/collections/own/records")) == "max-age=20"


def test_a_cache_expires_of_zero_without_settings_forbids_caching_as_kinto_says_it(make_app):
    app = make_app()
    app.put_json("/v1/buckets/cb", PUBLIC, headers=ALICE)
    app.put_json("/v1/buckets/cb/collections/c", {"data": {"cache_expires": 0}}, headers=ALICE)
    response = app.get("/v1/buckets/cb/collections/c/records")
    assert cache_control(response) == "max-age=0, must-revalidate, no-cache, no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_without_any_setting_nothing_is_cached(make_app):
    app = make_app()
    app.put_json("/v1/buckets/cb", PUBLIC, headers=ALICE)
    app.put_json("/v1/buckets/cb/collections/c", {}, headers=ALICE)
    assert cache_control(app.get("/v1/buckets/cb/collections/c/records")) == "no-cache, no-store"


def test_a_setting_that_is_no_number_is_ignored(make_app):
    app = make_app(**{"kinto.record_cache_expires_seconds": "soon"})
    app.put_json("/v1/buckets/cb", PUBLIC, headers=ALICE)
    app.put_json("/v1/buckets/cb/collections/c", {}, headers=ALICE)
    assert cache_control(app.get("/v1/buckets/cb/collections/c/records")) == "no-cache, no-store"
