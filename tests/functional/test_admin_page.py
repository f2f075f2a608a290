"""The admin page's HTTP side (``kinto.plugins.admin``): where it is served,
under which policy, its files and nothing else; ``kinto.admin_assets_path``
serving another build (kinto-admin's) as Kinto does."""

import pytest

from tests.support import ALICE

ADMIN = {"kinto.includes": "kinto.plugins.admin"}
STRICT = {
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
}


@pytest.fixture
def app(make_app):
    return make_app(**ADMIN)


def directives(response):
    return {part.strip() for part in response.headers["Content-Security-Policy"].split(";")}


def test_the_admin_path_without_a_slash_redirects_to_the_page(app):
    response = app.get("/v1/admin", status=307)
    assert response.headers["Location"].endswith("/v1/admin/")


def test_the_page_is_html_under_a_strict_content_security_policy(app):
    response = app.get("/v1/admin/", headers={"Accept": "text/html"}, status=200)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert directives(response) == STRICT
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-cache"
    assert '<script type="module" src="js/main.js"></script>' in response.text
    assert "<script>" not in response.text and "style=" not in response.text  # nothing inline


def test_the_page_allows_requests_to_the_change_stream_port(make_app):
    app = make_app(
        **{
            "kinto.includes": "kinto.plugins.admin kinto_server.plugins.stream",
            "kinto.changes.stream.listen": "127.0.0.1:0",
        }
    )
    try:
        stream = app.app.registry.stream_url.split("/v1/")[0]
        connect = next(d for d in directives(app.get("/v1/admin/")) if d.startswith("connect-src"))
        assert connect == f"connect-src 'self' {stream}"
    finally:
        app.app.registry.stream_server.stop()


@pytest.mark.parametrize(
    ("path", "media_type"),
    [("js/main.js", "text/javascript"), ("js/api.js", "text/javascript"), ("admin.css", "text/css")],
)
def test_its_files_are_served_with_their_media_type(app, path, media_type):
    response = app.get(f"/v1/admin/{path}", status=200)
    assert response.headers["Content-Type"] == f"{media_type}; charset=utf-8"
    assert response.headers["Last-Modified"]
    assert (
        app.get(f"/v1/admin/{path}", headers={"If-Modified-Since": response.headers["Last-Modified"]}).status_code
        == 304
    )


@pytest.mark.parametrize(
    "path",
    [
        "/v1/admin/nothere.js",
        "/v1/admin/js/../../__init__.py",
        "/v1/admin/js/%2e%2e/%2e%2e/__init__.py",
        "/v1/admin/..%2f__init__.py",
        "/v1/admin/%2e%2e/__init__.py",
        "/v1/admin/.hidden",
        "/v1/admin/js",
    ],
)
def test_nothing_but_its_files_is_served(app, path):
    assert app.get(path, status=404).json["errno"] == 111


def test_the_capability_says_the_page_is_served(app):
    capability = app.get("/v1/").json["capabilities"]["admin"]
    assert capability["description"] == "Serves the admin console."
    assert capability["url"] == "https://github.com/Kinto/kinto-admin/"
    assert capability["version"]


def test_the_page_needs_no_authentication_and_ignores_a_wrong_one(app):
    assert app.get("/v1/admin/", headers={"Authorization": "Basic bm9wZQ=="}).status_code == 200
    assert app.get("/v1/admin/", headers=ALICE).status_code == 200


def test_without_the_plugin_there_is_no_page(make_app):
    app = make_app()
    assert app.get("/v1/admin/", status=307).headers["Location"].endswith("/v1/admin")
    assert app.get("/v1/admin", status=404).json["errno"] == 111
    assert "admin" not in app.get("/v1/").json["capabilities"]


def test_another_build_is_served_from_kinto_admin_assets_path_under_kintos_policy(make_app, tmp_path):
    (tmp_path / "index.html").write_text("<html>kinto-admin build</html>")
    (tmp_path / "VERSION").write_text("6.6.0\n")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index.js").write_text("console.log(1)")
    app = make_app(**ADMIN, **{"kinto.admin_assets_path": str(tmp_path)})
    page = app.get("/v1/admin/", status=200)
    assert page.text == "<html>kinto-admin build</html>"
    assert "script-src 'self' 'unsafe-inline' 'unsafe-eval'" in directives(page)
    assert app.get("/v1/admin/assets/index.js", status=200).text == "console.log(1)"
    assert app.get("/v1/").json["capabilities"]["admin"]["version"] == "6.6.0"
