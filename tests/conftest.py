import pytest
from webtest import TestApp

from kinto_server import main
from tests.support import BASE_SETTINGS


@pytest.fixture
def make_app():
    """Build an app with extra settings (``kinto.`` prefix optional)."""

    def make(**overrides):
        settings = {**BASE_SETTINGS, **{k.replace("__", "."): v for k, v in overrides.items()}}
        return TestApp(main({}, **settings))

    return make


@pytest.fixture
def app(make_app):
    return make_app()
