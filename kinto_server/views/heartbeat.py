"""Service probes: ``__heartbeat__``, ``__lbheartbeat__``, ``__version__``
and ``contribute.json``.

``__heartbeat__`` asks every backend at once and waits at most
``heartbeat_timeout_seconds`` (Kinto's setting, 10 s): a backend that has not
answered by then is reported false (503). Each backend is asked from its own
thread (:class:`Prober`), so that a hung backend holds one thread, not one
per probe: while its previous check still hangs, it is reported false at
once.
"""

import os
import queue
import threading
import time

import ujson
from cornice import Service

from kinto_server import __version__
from kinto_server.errors import ERRORS, json_error
from kinto_server.views.rendering import json_response

heartbeat = Service(name="heartbeat", path="/__heartbeat__", description="Backends health")
lbheartbeat = Service(name="lbheartbeat", path="/__lbheartbeat__", description="Load-balancer probe")
version = Service(name="version", path="/__version__", description="Deployed version")
contribute = Service(name="contribute", path="/contribute.json", description="Project metadata")


def _healthy(backend):
    try:
        return bool(backend.heartbeat())
    except Exception:
        return False


class Prober:
    """Runs one backend's heartbeat in a thread of its own (started in the
    process that first needs it: threads do not survive a fork)."""

    def __init__(self, backend):
        self.backend = backend  # A function returning the backend.
        self._lock = threading.Lock()
        self._pending = None  # (answered, answer) of the check in progress
        self._queue = None
        self._pid = None

    def start(self):
        """Ask now; return a function that waits for the answer until a
        deadline (``time.monotonic()``), False past it."""
        with self._lock:
            if self._pid != os.getpid():
                self._queue, self._pid, self._pending = queue.SimpleQueue(), os.getpid(), None
                threading.Thread(target=self._serve, args=(self._queue,), name="heartbeat", daemon=True).start()
            if self._pending is None:  # Else the previous check still hangs: wait on it.
                self._pending = (threading.Event(), [False])
                self._queue.put(self._pending)
            answered, answer = self._pending

        def wait(deadline):
            return answered.wait(max(deadline - time.monotonic(), 0)) and answer[0]

        return wait

    def _serve(self, requests):
        while True:
            answered, answer = requests.get()
            answer[0] = _healthy(self.backend())
            with self._lock:
                if self._pending is not None and self._pending[0] is answered:
                    self._pending = None
            answered.set()


BACKENDS = ("storage", "permission", "cache")


@heartbeat.get()
def get_heartbeat(request):
    registry = request.registry
    deadline = time.monotonic() + registry.settings["heartbeat_timeout_seconds"]
    # The backends', and those of plugins (kinto-attachment's file store).
    waits = {name: prober.start() for name, prober in registry.heartbeat_probers.items()}
    status = {name: wait(deadline) for name, wait in waits.items()}
    return json_response(status, status=200 if all(status.values()) else 503)


@lbheartbeat.get()
def get_lbheartbeat(request):
    return json_response({})


@version.get()
def get_version(request):
    path = request.registry.settings["version_json_path"]
    try:
        with open(os.path.abspath(path), encoding="utf-8") as version_file:
            return json_response(ujson.load(version_file))
    except (OSError, ValueError):
        return json_error(404, ERRORS.MISSING_RESOURCE, "No version.json file for this deployment.")


@contribute.get()
def get_contribute(request):
    return json_response(
        {
            "name": "kinto_server",
            "description": "A Kinto-compatible server to store, sync and share JSON data.",
            "version": __version__,
            "keywords": ["kinto", "storage", "sync", "rest"],
        }
    )


def includeme(config):
    registry = config.registry
    registry.heartbeat_probers = {name: Prober(lambda name=name: getattr(registry, name)) for name in BACKENDS}
    for service in (heartbeat, lbheartbeat, version, contribute):
        config.add_cornice_service(service)
