import threading

import pytest
from waitress.server import create_server

from kinto_server import main
from tests.backends import settings_for
from tests.support import BASE_SETTINGS

FULL_SETTINGS = {
    "kinto.includes": "kinto_server.plugins.default_bucket kinto_server.plugins.accounts kinto_server.plugins.history",
    "kinto.multiauth.policies": "account basicauth",
    "kinto.account_hash_rounds": "4",
    "kinto.experimental_permissions_endpoint": "true",
}


@pytest.fixture
def server_url(backend):
    """A real HTTP server (waitress, in a thread) on a free loopback port."""
    yield from _serve({**BASE_SETTINGS, **settings_for(backend)})


@pytest.fixture
def full_server_url(backend):
    """The same, with the accounts and history plugins and the permissions endpoint."""
    yield from _serve({**BASE_SETTINGS, **settings_for(backend), **FULL_SETTINGS})


@pytest.fixture
def attachment_server_url(backend, tmp_path):
    """The same, with kinto_attachment (its files in ``tmp_path / "files"``)."""
    settings = {
        **BASE_SETTINGS,
        **settings_for(backend),
        "kinto.includes": "kinto.plugins.default_bucket kinto_attachment",
        "kinto.attachment.base_path": str(tmp_path / "files"),
    }
    yield from _serve(settings)


def _serve(settings):
    app = main({}, **settings)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    stop = threading.Event()

    def serve():
        # waitress' own run() only returns once every client has gone: poll
        # its loop instead, so the fixture can stop it at once.
        while not stop.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}/v1"
    stop.set()
    thread.join(timeout=5)
    server.task_dispatcher.shutdown()
    server.close()
    for channel in list(server._map.values()):
        channel.close()
    stream_server = getattr(app.registry, "stream_server", None)
    if stream_server is not None:
        stream_server.stop()
