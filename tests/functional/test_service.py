"""Root, probes, redirects, CORS, service-wide headers and error format."""

import json
import threading
import time

from tests.support import ALICE, assert_error, user_id


def test_root_describes_the_server(app):
    body = app.get("/v1/").json
    assert body["project_name"] == "kinto"
    assert body["http_api_version"] == "1.23"
    assert body["url"] == "http://localhost:80/v1/"
    assert body["settings"] == {"batch_max_requests": 25, "readonly": False, "explicit_permissions": True}
    assert set(body["capabilities"]) == {"default_bucket", "basicauth"}
    assert "user" not in body


def test_root_shows_authenticated_user(app):
    user = app.get("/v1/", headers=ALICE).json["user"]
    assert user["id"] == user_id("alice")
    assert set(user["principals"]) == {user_id("alice"), "system.Everyone", "system.Authenticated"}


def test_root_url_follows_http_host_setting(make_app):
    app = make_app(**{"kinto.http_host": "kinto.example.com", "kinto.http_scheme": "https"})
    assert app.get("/v1/").json["url"] == "https://kinto.example.com/v1/"


def test_heartbeats(app):
    assert app.get("/v1/__heartbeat__").json == {"storage": True, "permission": True, "cache": True}
    assert app.get("/v1/__lbheartbeat__").json == {}


def test_a_hung_backend_fails_the_heartbeat_within_the_timeout(make_app, monkeypatch):
    app = make_app(**{"kinto.heartbeat_timeout_seconds": "0.3"})
    registry = app.app.registry
    release = threading.Event()
    monkeypatch.setattr(registry.permission, "heartbeat", lambda: release.wait(30))
    threads_before = threading.active_count()
    try:
        for _ in range(3):  # The second and third find the first check still hanging.
            started = time.monotonic()
            response = app.get("/v1/__heartbeat__", status=503)
            assert time.monotonic() - started < 3
            assert response.json == {"storage": True, "permission": False, "cache": True}
        assert threading.active_count() - threads_before <= 3  # One prober per backend, not one per request.
    finally:
        release.set()
    deadline = time.monotonic() + 5
    while app.get("/v1/__heartbeat__", expect_errors=True).status_code != 200:
        assert time.monotonic() < deadline, "the backend answered again but the heartbeat did not recover"
        time.sleep(0.05)


def test_a_failing_backend_fails_the_heartbeat_at_once(make_app, monkeypatch):
    app = make_app()

    def broken():
        raise ConnectionError("no route to the database")

    monkeypatch.setattr(app.app.registry.storage, "heartbeat", broken)
    assert app.get("/v1/__heartbeat__", status=503).json == {"storage": False, "permission": True, "cache": True}


def test_version_without_file_is_404(make_app):
    app = make_app(**{"kinto.version_json_path": "/nonexistent/version.json"})
    assert_error(app.get("/v1/__version__", status=404), 404, 111)


def test_version_serves_version_json(make_app, tmp_path):
    path = tmp_path / "version.json"
    path.write_text(json.dumps({"version": "1.2.3", "commit": "abc"}))
    app = make_app(**{"kinto.version_json_path": str(path)})
    assert app.get("/v1/__version__").json["version"] == "1.2.3"


def test_contribute_json(app):
    assert app.get("/v1/contribute.json").json["name"] == "kinto_server"


def test_root_redirects_to_v1(app):
    assert app.get("/", status=307).headers["Location"].endswith("/v1/")
    assert app.get("/v1", status=307).headers["Location"].endswith("/v1/")


def test_path_without_prefix_redirects_under_v1(app):
    response = app.get("/buckets?_limit=2", status=307)
    assert response.headers["Location"].endswith("/v1/buckets?_limit=2")


def test_trailing_slash_redirects(app):
    assert app.get("/v1/buckets/", status=307).headers["Location"].endswith("/v1/buckets")


def test_other_version_prefix_is_404_116(app):
    assert_error(app.get("/v2/buckets", status=404), 404, 116)


def test_unknown_url_is_404_111(app):
    assert_error(app.get("/v1/unknown", status=404), 404, 111)


def test_method_not_allowed_is_405_115(app):
    assert_error(app.post_json("/v1/buckets/b", {}, headers=ALICE, status=405), 405, 115)


def test_unacceptable_accept_is_406(app):
    assert_error(app.get("/v1/buckets", headers={**ALICE, "Accept": "text/html"}, status=406), 406, 107)
    app.get("/v1/buckets", headers={**ALICE, "Accept": "application/json, */*;q=0.5"}, status=200)


def test_root_answers_any_accept_header(app):
    app.get("/v1/", headers={"Accept": "text/html"}, status=200)


def test_cors_allows_origin_and_exposes_headers(app):
    response = app.get("/v1/buckets", headers={**ALICE, "Origin": "http://app.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    exposed = response.headers["Access-Control-Expose-Headers"]
    for name in ("Backoff", "Retry-After", "Alert", "Content-Length", "Next-Page", "ETag", "Last-Modified"):
        assert name in exposed


def test_cors_preflight(app):
    headers = {
        "Origin": "http://app.example",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
    }
    response = app.options("/v1/buckets/b", headers=headers, status=200)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]
    # As Kinto: what the endpoint exposes, and what was asked for.
    allowed = response.headers["Access-Control-Allow-Headers"].split(", ")
    assert {"Authorization", "Content-Type", "ETag", "Last-Modified"} <= set(allowed)


def test_cors_origins_setting_restricts_origins(make_app):
    app = make_app(**{"kinto.cors_origins": "http://good.example"})
    good = app.get("/v1/", headers={"Origin": "http://good.example"})
    assert good.headers["Access-Control-Allow-Origin"] == "http://good.example"
    assert "Access-Control-Allow-Origin" not in app.get("/v1/", headers={"Origin": "http://bad.example"}).headers


def test_backoff_setting_adds_header(make_app):
    app = make_app(**{"kinto.backoff": "10"})
    assert app.get("/v1/").headers["Backoff"] == "10"


def test_backoff_and_alert_reach_preflights_and_redirects(make_app):
    app = make_app(**{"kinto.backoff": "10", "kinto.eos": "2999-01-01"})
    preflight = {"Origin": "http://app.example", "Access-Control-Request-Method": "GET"}
    for response in (app.options("/v1/buckets", headers=preflight, status=200), app.get("/buckets", status=307)):
        assert response.headers["Backoff"] == "10"
        assert json.loads(response.headers["Alert"])["code"] == "soft-eol"


def test_an_alert_without_url_points_to_the_docs(make_app):
    app = make_app(**{"kinto.eos": "2999-01-01"})
    alert = json.loads(app.get("/v1/").headers["Alert"])
    assert alert == {"code": "soft-eol", "message": None, "url": "https://kinto.readthedocs.io/"}


def test_end_of_service_soon_adds_alert(make_app):
    app = make_app(**{"kinto.eos": "2999-01-01", "kinto.eos_message": "Moving", "kinto.eos_url": "http://x"})
    alert = json.loads(app.get("/v1/").headers["Alert"])
    assert alert == {"code": "soft-eol", "message": "Moving", "url": "http://x"}


def test_end_of_service_passed_is_410(make_app):
    app = make_app(**{"kinto.eos": "2000-01-01"})
    assert_error(app.get("/v1/buckets", status=410), 410, 202)


def test_past_the_end_of_service_preflights_are_410_too(make_app):
    app = make_app(**{"kinto.eos": "2000-01-01"})
    headers = {"Origin": "http://app.example", "Access-Control-Request-Method": "PUT"}
    response = app.options("/v1/buckets/b", headers=headers, status=410)
    assert_error(response, 410, 202)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    # Answered before routing, as Kinto: the base list, not the endpoint's.
    assert (
        response.headers["Access-Control-Expose-Headers"] == "Backoff, Retry-After, Alert, Content-Length, Content-Type"
    )
    assert json.loads(response.headers["Alert"])["code"] == "hard-eol"


def test_readonly_refuses_writes(make_app):
    app = make_app(**{"kinto.readonly": "true"})
    body = assert_error(app.put("/v1/buckets/b", headers=ALICE, status=405), 405, 115)
    assert body["message"] == "Method not allowed on this endpoint."
    assert app.get("/v1/").json["settings"]["readonly"] is True


def test_a_readonly_servers_description_may_be_cached(make_app):
    assert app_cache_control(make_app(**{"kinto.readonly": "true"})) == "max-age=86400"
    assert app_cache_control(make_app(**{"kinto.readonly": "true", "kinto.root_cache_expires_seconds": "60"})) == (
        "max-age=60"
    )
    assert app_cache_control(make_app()) is None


def app_cache_control(app):
    response = app.get("/v1/")
    assert ("Expires" in response.headers) == ("Cache-Control" in response.headers)
    return response.headers.get("Cache-Control")


def test_a_readonly_server_preflights_reads_only_but_batches(make_app):
    app = make_app(**{"kinto.readonly": "true"})
    headers = {"Origin": "http://app.example", "Access-Control-Request-Method": "PUT"}
    body = assert_error(app.options("/v1/buckets/b", headers=headers, status=400), 400, 107)
    assert body["details"][0]["description"] == "Method not allowed"
    allowed = app.options("/v1/buckets/b", headers={**headers, "Access-Control-Request-Method": "GET"}, status=200)
    assert allowed.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    app.options("/v1/batch", headers={**headers, "Access-Control-Request-Method": "POST"}, status=200)


def test_unexpected_error_is_500_without_traceback(app, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("kinto_server.views.resources.objects.get_object", explode)
    response = app.get("/v1/buckets/b", headers=ALICE, status=500)
    body = assert_error(response, 500, 999)
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert body["error"] == "Internal Server Error"


def test_error_bodies_have_kinto_shape(app):
    body = app.get("/v1/buckets/x", status=401).json
    assert set(body) >= {"code", "errno", "error", "message"}
    assert body["error"] == "Unauthorized"


def test_backend_unavailable_is_503_with_retry_after(app, monkeypatch):
    from kinto_server.errors import BackendUnavailable

    def unavailable(*args, **kwargs):
        raise BackendUnavailable("database is down")

    monkeypatch.setattr("kinto_server.views.resources.objects.get_object", unavailable)
    response = app.get("/v1/buckets/b", headers=ALICE, status=503)
    assert_error(response, 503, 201)
    assert response.headers["Retry-After"] == "3"
    assert "database is down" not in response.text


def test_redirects_encode_unusual_characters(app):
    location = app.get("/v1/buckets/%C3%A9t%C3%A9%00/", status=307).headers["Location"]
    assert location.endswith("/v1/buckets/%C3%A9t%C3%A9%00")
    assert app.get("/buckets/%C4%80", status=307).headers["Location"].endswith("/v1/buckets/%C4%80")


def test_path_that_is_not_utf8_is_400(app):
    for path in ("/v1/buckets/%C3%28", "/v1/buckets/b/collections/%FF/records", "/buckets/%FF", "/v1/%80/"):
        body = assert_error(app.get(path, headers=ALICE, status=400), 400, 107)
        assert body["message"] == "The URL path is not valid UTF-8."


def test_querystring_that_is_not_utf8_is_400(app):
    for query in ("_since=%FF", "%FF=1", "_sort=%C3", "in_id=a,%E2%82"):
        response = app.get(f"/v1/buckets/b/collections/c/records?{query}", headers=ALICE, status=400)
        body = assert_error(response, 400, 107)
        assert body["message"] == "The querystring is not valid UTF-8."
    assert_error(app.post_json("/v1/batch?%FF", {"requests": []}, headers=ALICE, status=400), 400, 107)
