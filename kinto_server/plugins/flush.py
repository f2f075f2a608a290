"""``POST /v1/__flush__`` wipes every backend: for test servers only.

Including the plugin turns it on, as in Kinto (kinto-http.py's test
configuration relies on it); ``kinto.flush_endpoint_enabled = false``
turns it off again, e.g. for a fuzzer that must not wipe its fixtures.
"""

from cornice import Service

from kinto_server.views.rendering import json_response


class Flushed:
    """Notified once every backend is wiped: plugins keeping data elsewhere
    (the attachments' files) wipe theirs."""

    def __init__(self, request):
        self.request = request


flush = Service(name="flush", path="/__flush__", description="Remove everything (test servers only)")


@flush.post()
def post_flush(request):
    registry = request.registry
    for backend in (registry.storage, registry.permission, registry.cache):
        backend.flush()
    registry.notify(Flushed(request))
    return json_response({}, status=202)


def includeme(config):
    if config.registry.settings["flush_endpoint_enabled"]:
        config.add_cornice_service(flush)
        config.registry.capabilities["flush_endpoint"] = {
            "description": "The __flush__ endpoint can be used to remove all data from all backends.",
            "url": "https://kinto.readthedocs.io/en/latest/api/1.x/flush.html",
        }
