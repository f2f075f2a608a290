"""``GET /v1/__counters__`` (Kinto's ``kinto.plugins.counters``): how many
objects and tombstones are stored, per resource, for anyone (no
authentication: numbers only). One grouped count over the whole store."""

from cornice import Service

from kinto_server.views.rendering import json_response

RESOURCE_NAMES = ("account", "bucket", "group", "collection", "record", "history", "attachments")

counters = Service(name="counters", path="/__counters__", description="How many objects are stored")


@counters.get()
def get_counters(request):
    counts = request.registry.storage.count_by_resource(resource_names=RESOURCE_NAMES)
    body = {"objects": {}, "tombstones": {}}
    for name in RESOURCE_NAMES:  # In Kinto's order.
        live, tombstones = counts.get(name, (0, 0))
        if live:
            body["objects"][name] = live
        if tombstones:
            body["tombstones"][name] = tombstones
    return json_response(body)


def includeme(config):
    config.add_cornice_service(counters)
    config.registry.capabilities["counters_endpoint"] = {
        "description": "The __counters__ endpoint exposes how many objects are stored.",
        "url": "https://kinto.readthedocs.io/en/latest/api/1.x/counters.html",
    }
