"""``/buckets/monitor/collections/changes/records``: one entry per watched
collection, ``{id, bucket, collection, host, last_modified}``, where
``last_modified`` is the collection's records timestamp (its ETag). One
request tells a client which of its collections changed since it last
looked; filters, ``_since``, ``_sort``, paging, ETag and 304 work as on any
list.

Watched collections are named by ``kinto.changes.resources`` (a bucket
means every collection in it), less ``kinto.changes.excluded_collections``.
Unlike kinto-changes, which lists every watched collection to anyone, a
caller sees only the collections whose records it may read: the names of
private collections do not leak.
"""

import hashlib
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from pyramid.httpexceptions import HTTPTemporaryRedirect

from kinto_server.resources import preconditions, querystring
from kinto_server.resources.access import Access
from kinto_server.resources.caching import cache_headers
from kinto_server.resources.lists import paged_computed
from kinto_server.resources.objects import Outcome, project_fields
from kinto_server.resources.tree import BUCKET, COLLECTION, RECORD, ObjectRef, ref_from_uri
from kinto_server.settings import ConfigurationError
from kinto_server.storage.evaluation import predicate

MONITOR = ("monitor", "changes")


def watched_refs(settings):
    """The buckets and collections ``changes.resources`` names, checked at
    start-up: a typo must not silently watch nothing."""
    refs = []
    for uri in settings["changes.resources"]:
        ref = ref_from_uri(uri)
        if ref is None or ref.resource not in (BUCKET, COLLECTION):
            raise ConfigurationError(
                f"kinto.changes.resources: {uri!r} is neither a bucket (/buckets/<id>)"
                " nor a collection (/buckets/<id>/collections/<id>)"
            )
        refs.append(ref)
    excluded = set()
    for uri in settings["changes.excluded_collections"]:
        ref = ref_from_uri(uri)
        if ref is None or ref.resource is not COLLECTION:
            raise ConfigurationError(f"kinto.changes.excluded_collections: {uri!r} is not a collection")
        excluded.add(ref.ids)
    return refs, excluded


def watched_collections(registry):
    """``(bucket_id, collection_id)`` of every watched collection, in the
    order of the settings (a bucket's collections oldest first, as
    kinto-changes lists them), without repeats."""
    refs, excluded = registry.changes_watched
    found = {}
    for ref in refs:
        if ref.resource is COLLECTION:
            found.setdefault(ref.ids, None)
            continue
        collections = registry.storage.list_all(resource_name=COLLECTION.name, parent_id=ref.uri)
        for collection in sorted(collections, key=lambda c: (c["last_modified"], c["id"])):
            found.setdefault((ref.object_id, collection["id"]), None)
    return [ids for ids in found if ids not in excluded]


def entry_id(http_host, collection_uri):
    """kinto-changes' id: a UUID made of the MD5 of host and collection URI,
    so that clients which stored ids keep them."""
    return str(uuid.UUID(hashlib.md5((http_host + collection_uri).encode("utf-8")).hexdigest()))


def readable_entries(request):
    """The entries of the watched collections the caller may read."""
    registry = request.registry
    http_host = registry.settings["http_host"] or ""
    collections = [ObjectRef(COLLECTION, ids) for ids in watched_collections(registry)]
    uris = sorted({r.uri for ref in collections for r in ref.lineage()})
    acls = registry.permission.get_objects_permissions(object_uris=uris) if uris else []
    access = Access(request.principals, dict(zip(uris, acls, strict=True)), {})
    entries = []
    for ref in collections:
        if not access.allows(ref, "read"):
            continue
        timestamp = registry.storage.resource_timestamp(resource_name=RECORD.name, parent_id=ref.uri)
        bucket_id, collection_id = ref.ids
        entries.append(
            {
                "id": entry_id(http_host, ref.uri),
                "last_modified": timestamp,
                "bucket": bucket_id,
                "collection": collection_id,
                "host": http_host,
            }
        )
    return entries


def overview_timestamp(entries):
    """The newest entry's timestamp; the current time when there is none
    (as kinto-changes)."""
    return max((e["last_modified"] for e in entries), default=int(time.time() * 1000))


def redirect_old_since(request):
    """kinto-changes' rule: a ``_since`` older than
    ``changes.since_max_age_days`` (21; -1: never) is sent, by a 307, to the
    same list without it, so that CDNs cache few distinct URLs."""
    settings = request.registry.settings
    max_age_days = settings["changes.since_max_age_days"]
    if max_age_days < 0 or "_since" not in request.GET:
        return
    try:
        since = int(request.GET["_since"].strip('"'))
    except ValueError:
        return  # The list's own validation answers 400.
    oldest = (datetime.now(timezone.utc) - timedelta(days=max_age_days)).timestamp() * 1000
    if since >= oldest:
        return
    # kinto-changes sends clients to https://<changes.http_host or http_host>;
    # with neither set, to the host they asked (not to "https://None").
    host = settings["changes.http_host"] or settings["http_host"]
    scheme = settings["http_scheme"] or "https"
    if host is None:
        host, scheme = request.host, settings["http_scheme"] or request.scheme
    kept = [(name, value) for name, value in request.GET.items() if name != "_since"]
    location = f"{scheme}://{host}{request.path}" + (f"?{urlencode(kept)}" if kept else "")
    ttl = settings["changes.since_max_age_redirect_ttl_seconds"]
    raise HTTPTemporaryRedirect(location=location, headers=cache_headers(ttl) if ttl >= 0 else {})


def cache_expiry(request, bucket_id, collection_id):
    """``<bid>.<cid>.record_cache_expires_seconds`` (or its ``maximum``
    variant when the client busts caches with ``_expected``), as
    kinto-changes reads it; None when unset."""
    settings = request.registry.settings
    prefix = f"{bucket_id}.{collection_id}.record_cache"
    default = settings.get(f"{prefix}_expires_seconds")
    maximum = settings.get(f"{prefix}_maximum_expires_seconds", default)
    chosen = maximum if "_expected" in request.GET else default
    if chosen in (None, ""):
        return None
    try:
        return int(chosen)
    except (TypeError, ValueError):
        raise ConfigurationError(f"Invalid value for setting kinto.{prefix}_expires_seconds: {chosen!r}") from None


def list_overview(request, count=False):
    """GET (or HEAD) of the overview: a list like any other."""
    redirect_old_since(request)
    query = querystring.parse(request.GET, request.registry.settings)
    entries = readable_entries(request)
    timestamp = overview_timestamp(entries)
    wanted = predicate(query.filters)
    found = [e for e in entries if wanted(e)]
    headers = {}
    seconds = cache_expiry(request, *MONITOR)
    if seconds is not None:
        headers.update(cache_headers(seconds))
    if count:
        preconditions.check(request, timestamp)
        headers["Total-Objects"] = headers["Total-Records"] = str(len(found))
        return Outcome([], None, timestamp=timestamp, headers=headers)
    page, page_headers = paged_computed(request, query, found)
    preconditions.check(request, timestamp)
    headers.update(page_headers)
    if query.fields:
        page = [project_fields(e, query.fields) for e in page]
    return Outcome(page, None, timestamp=timestamp, headers=headers)
