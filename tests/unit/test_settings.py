import configparser
import logging
import sqlite3
from pathlib import Path

import pytest

from kinto_server.settings import EXAMPLE_SECRETS, ConfigurationError, load


def test_defaults_are_applied_and_prefix_is_stripped():
    settings = load({"kinto.readonly": "true", "kinto.includes": "a b"}, environ={})
    assert settings["readonly"] is True
    assert settings["includes"] == ["a", "b"]
    assert settings["batch_max_requests"] == 25
    assert settings["paginate_by"] is None


def test_environment_overrides_settings():
    environ = {"KINTO_BATCH_MAX_REQUESTS": "10", "READONLY": "1"}
    settings = load({"kinto.batch_max_requests": "50"}, environ=environ)
    assert settings["batch_max_requests"] == 10
    assert settings["readonly"] is True


def test_kinto_prefixed_environment_variable_wins():
    settings = load({}, environ={"KINTO_PAGINATE_BY": "5", "PAGINATE_BY": "7"})
    assert settings["paginate_by"] == 5


def test_dotted_settings_read_from_environment():
    settings = load({}, environ={"KINTO_MULTIAUTH_POLICIES": "basicauth account"})
    assert settings["multiauth.policies"] == ["basicauth", "account"]


@pytest.mark.parametrize(("key", "value"), [("kinto.readonly", "maybe"), ("kinto.batch_max_requests", "many")])
def test_invalid_values_name_the_setting(key, value):
    with pytest.raises(ConfigurationError, match=key):
        load({key: value}, environ={})


def test_unknown_keys_are_kept_for_plugins():
    assert load({"kinto.plugin_option": "x"}, environ={})["plugin_option"] == "x"


def test_unknown_backend_stops_startup(make_app):
    with pytest.raises(ConfigurationError, match="storage backend"):
        make_app(**{"kinto.storage_backend": "nosuch"})


def test_an_unknown_backend_names_the_choices(make_app):
    with pytest.raises(
        ConfigurationError, match=r"Unknown storage backend 'kinto.core.storage.nosuch': use one of memory"
    ):
        make_app(**{"kinto.storage_backend": "kinto.core.storage.nosuch"})
    with pytest.raises(ConfigurationError, match="has no Nope"):
        make_app(**{"kinto.storage_backend": "kinto_server.storage.memory:Nope"})


def test_a_third_party_backend_is_named_by_module_and_class(make_app):
    from kinto_server.storage.memory import MemoryStorage

    app = make_app(**{"kinto.storage_backend": "kinto_server.storage.memory:MemoryStorage"})
    assert isinstance(app.app.registry.storage, MemoryStorage)
    app = make_app(**{"kinto.cache_backend": "tests.unit.test_settings"})  # A module with from_settings().
    assert app.app.registry.cache is THIRD_PARTY_CACHE


THIRD_PARTY_CACHE = None


def from_settings(settings):
    """A third party's cache backend factory (see the test above)."""
    global THIRD_PARTY_CACHE
    from kinto_server.cache.memory import MemoryCache

    THIRD_PARTY_CACHE = MemoryCache.from_settings(settings)
    return THIRD_PARTY_CACHE


def test_kinto_dotted_backend_names_are_accepted(make_app):
    app = make_app(**{"kinto.storage_backend": "kinto.core.storage.memory"})
    assert app.get("/v1/__heartbeat__").json["storage"] is True


def test_every_shipped_example_secret_is_known_as_one():
    root = Path(__file__).parents[2]
    for ini in sorted((root / "config").glob("*.ini")):
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(ini)
        assert parser["app:main"]["kinto.userid_hmac_secret"] in EXAMPLE_SECRETS, ini


def test_a_server_started_with_an_example_secret_warns(caplog):
    from kinto_server import make_config

    with caplog.at_level(logging.WARNING, logger="kinto_server"):
        make_config(**{"kinto.userid_hmac_secret": next(iter(EXAMPLE_SECRETS))})
    assert "public example value" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kinto_server"):
        make_config(**{"kinto.userid_hmac_secret": "a-secret-of-my-own"})
    assert "userid_hmac_secret" not in caplog.text


def test_the_shipped_configuration_keeps_its_data_in_one_sqlite_file(tmp_path, monkeypatch):
    from pyramid.paster import get_app
    from webtest import TestApp

    ini = Path(__file__).parents[2] / "config" / "kinto.ini"
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ini)
    assert parser["app:main"]["kinto.storage_url"] == "sqlite:///%(here)s/data/kinto.sqlite"
    # The environment moves the file (and permissions and cache with it).
    monkeypatch.setenv("KINTO_STORAGE_URL", f"sqlite://{tmp_path}/moved.sqlite")
    monkeypatch.setenv("KINTO_CHANGES_STREAM_LISTEN", "127.0.0.1:0")  # `make serve` may hold 8889
    app = TestApp(get_app(str(ini), "main"))
    app.app.registry.stream_server.stop()
    app.put("/v1/buckets/b", headers={"Authorization": "Basic YTpi"}, status=201)
    assert app.get("/v1/admin/").content_type == "text/html"  # make serve's admin page
    tables = {row[0] for row in sqlite3.connect(tmp_path / "moved.sqlite").execute("SELECT name FROM sqlite_master")}
    assert {"objects", "access_control_entries", "cache"} <= tables
