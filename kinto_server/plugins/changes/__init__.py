"""The changes overview, compatible with the kinto-changes plugin (enabled
by ``kinto_changes`` in ``kinto.includes``, the name its users have, or by
``kinto_server.plugins.changes``):

- ``GET /v1/buckets/monitor/collections/changes/records``: which watched
  collections changed, and when (:mod:`.overview`);
- ``GET /v1/buckets/{bid}/collections/{cid}/changeset?_expected=``: a
  collection's metadata and changes in one answer (:mod:`.changeset`).

Settings, as kinto-changes names them: ``kinto.changes.resources``,
``kinto.changes.excluded_collections``, ``kinto.changes.http_host``,
``kinto.changes.since_max_age_days``,
``kinto.changes.since_max_age_redirect_ttl_seconds``, and
``kinto.<bid>.<cid>.record_cache_expires_seconds`` /
``..._maximum_expires_seconds`` for the cache headers.
"""

from kinto_server.plugins.changes import changeset, overview


def includeme(config):
    registry = config.registry
    registry.changes_watched = overview.watched_refs(registry.settings)
    registry.virtual_lists[overview.MONITOR] = overview.list_overview
    config.add_cornice_service(changeset.changeset)
    registry.capabilities["changes"] = {
        "description": "Which watched collections changed, and when, in one request (kinto-changes).",
        "url": "http://kinto.readthedocs.io/en/latest/tutorials/synchronisation.html#polling-for-remote-changes",
        "collections": list(registry.settings["changes.resources"]),
    }
