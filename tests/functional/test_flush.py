from tests.support import ALICE, assert_error

PLUGINS = "kinto_server.plugins.default_bucket kinto_server.plugins.flush"


def test_flush_removes_everything_when_the_plugin_is_included(make_app):
    app = make_app(**{"kinto.includes": PLUGINS})
    app.put("/v1/buckets/b", headers=ALICE)
    app.post("/v1/__flush__", status=202)
    assert app.get("/v1/buckets", headers=ALICE).json["data"] == []
    app.put("/v1/buckets/b", headers=ALICE, status=201)


def test_flush_is_off_without_the_plugin_or_when_the_setting_disables_it(make_app):
    for settings in ({"kinto.includes": PLUGINS, "kinto.flush_endpoint_enabled": "false"}, {}):
        app = make_app(**settings)
        assert_error(app.post("/v1/__flush__", status=404), 404, 111)
