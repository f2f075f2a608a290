"""Service probes: ``__heartbeat__``, ``__lbheartbeat__``, ``__version__``
and ``contribute.json``."""

import os

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


@heartbeat.get()
def get_heartbeat(request):
    registry = request.registry
    status = {name: _healthy(getattr(registry, name)) for name in ("storage", "permission", "cache")}
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
    for service in (heartbeat, lbheartbeat, version, contribute):
        config.add_cornice_service(service)
