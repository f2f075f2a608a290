"""``POST /v1/__flush__`` wipes every backend: for test servers only.

Kinto turns it on by including the plugin; this server also requires
``kinto.flush_endpoint_enabled = true``, so that listing the plugin by
mistake in production cannot expose a wipe-everything endpoint.
"""

from cornice import Service

from kinto_server.views.rendering import json_response

flush = Service(name="flush", path="/__flush__", description="Remove everything (test servers only)")


@flush.post()
def post_flush(request):
    registry = request.registry
    for backend in (registry.storage, registry.permission, registry.cache):
        backend.flush()
    return json_response({}, status=202)


def includeme(config):
    if config.registry.settings["flush_endpoint_enabled"]:
        config.add_cornice_service(flush)
        config.registry.capabilities["flush_endpoint"] = {
            "description": "The __flush__ endpoint can be used to remove all data from all backends.",
            "url": "https://kinto.readthedocs.io/en/latest/api/1.x/flush.html",
        }
