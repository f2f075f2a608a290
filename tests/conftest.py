import socket

import pytest
from webtest import TestApp

from kinto_server import main
from tests.backends import BACKENDS, prepare, settings_for
from tests.s3_server import s3_server  # noqa: F401 - a fixture for every test folder
from tests.support import BASE_SETTINGS


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The backend kind under test, starting from an empty database."""
    prepare(request.param)
    return request.param


@pytest.fixture
def make_app(backend):
    """Build an app on the backend under test, with extra settings."""

    def make(**overrides):
        settings = {**BASE_SETTINGS, **settings_for(backend), **overrides}
        return TestApp(main({}, **settings))

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def statsd_listener():
    """A StatsD agent's socket on loopback, for the StatsD plugin to send to."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(2)
    yield listener
    listener.close()


def pytest_terminal_summary(terminalreporter):
    """One line per skip reason (``-ra`` would print one per test location:
    hundreds when a backend is left out)."""
    reasons = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        terminalreporter.write_line(f"skipped {count}: {reason.removeprefix('Skipped: ')}")
