"""``GET /buckets/{bid}/collections/{cid}/changeset?_expected=...``
(kinto-changes, used by Remote Settings clients): a collection's metadata,
its records timestamp and its records, newest first, in one answer read
from one snapshot; with ``_since="<timestamp>"`` only what changed since,
tombstones included. ``_expected`` is required and only busts caches.
Answers, errors and headers are kinto-changes' (compared over HTTP with
kinto-changes 4.1.2 on Kinto 26.5).

Reading it needs ``read`` on the collection (records shared one by one do
not make a changeset readable). ``monitor/changes`` has a changeset too:
the overview's entries (filtered by ``bucket`` and ``collection``).
"""

import re
import sys

from cornice import Service

from kinto_server.errors import ERRORS, cornice_errors_to_response, http_error, invalid_parameters
from kinto_server.plugins.changes import overview
from kinto_server.resources import querystring
from kinto_server.resources.caching import cache_headers
from kinto_server.resources.preconditions import timestamp_headers
from kinto_server.resources.target import Target, ref_from_matchdict
from kinto_server.resources.tree import COLLECTION, ID_PATTERN, RECORD
from kinto_server.storage import Filter, Operator, Sort
from kinto_server.views.rendering import BASE_EXPOSED, json_response

QUOTED_TIMESTAMP = re.compile(r'^"([0-9]+)"$')

changeset = Service(
    name="collection-changeset",
    path="/buckets/{bucket_id}/collections/{collection_id}/changeset",
    description="A collection's metadata and records (kinto-changes)",
    error_handler=cornice_errors_to_response,
)
changeset.path_patterns = {"bucket_id": ID_PATTERN.pattern, "collection_id": ID_PATTERN.pattern}
# As kinto-changes: the base headers only.
changeset.exposed = {"GET": BASE_EXPOSED, "HEAD": BASE_EXPOSED}


def parse(request):
    """The querystring: ``_expected`` (required), ``_since`` (an integer in
    double quotes), ``_limit``, and for monitor/changes ``bucket`` and
    ``collection``. Other parameters are ignored, as kinto-changes does."""
    params = request.GET
    if "_expected" not in params:
        raise invalid_parameters("querystring", "_expected", "Required")
    since = limit = None
    if "_since" in params:
        match = QUOTED_TIMESTAMP.match(params["_since"])
        if match is None:
            raise invalid_parameters("querystring", "_since", "The value should be integer between double quotes.")
        since = int(match.group(1))
    if "_limit" in params:
        limit = querystring.parse_limit(params["_limit"])  # The 400s of any list's _limit.
        if limit is not None and limit > sys.maxsize:
            limit = None  # Above any count, and above every backend's integers.
    return since, limit


def monitor_changeset(request, since, limit):
    overview.redirect_old_since(request)
    entries = overview.readable_entries(request)
    timestamp = overview.overview_timestamp(entries)
    wanted = [
        e
        for e in entries
        if (since is None or e["last_modified"] > since)
        and all(e[name] == request.GET[name] for name in ("bucket", "collection") if name in request.GET)
    ]
    # In the order of the watched collections, as kinto-changes.
    return {}, timestamp, wanted[:limit] if limit else wanted


def collection_changeset(request, since, limit):
    ref = ref_from_matchdict(request, COLLECTION, request.matchdict)
    target = Target(request, ref)
    target.require("read")
    metadata = target.obj
    if metadata is None:
        # kinto-changes' answer for a missing bucket or collection.
        raise http_error(404, ERRORS.MISSING_RESOURCE, "The resource you are looking for could not be found.")
    filters = [Filter("last_modified", since, Operator.GT)] if since is not None else []
    changes, timestamp = request.registry.storage.list_with_timestamp(
        resource_name=RECORD.name,
        parent_id=ref.uri,
        filters=filters,
        sorting=(Sort("last_modified", descending=True),),
        limit=limit,
        include_deleted=since is not None,
    )
    return metadata, timestamp, changes


@changeset.get()
def get_changeset(request):
    since, limit = parse(request)
    bucket_id, collection_id = request.matchdict["bucket_id"], request.matchdict["collection_id"]
    if (bucket_id, collection_id) == overview.MONITOR:
        metadata, timestamp, changes = monitor_changeset(request, since, limit)
    else:
        metadata, timestamp, changes = collection_changeset(request, since, limit)
    # No Cache-Control unless configured: CDNs may cache it, as kinto-changes'.
    # Last-Modified is sent as kinto-changes' code means to (Kinto drops it).
    headers = {"Last-Modified": timestamp_headers(timestamp)["Last-Modified"]}
    seconds = overview.cache_expiry(request, bucket_id, collection_id)
    if seconds is not None:
        headers.update(cache_headers(seconds))
    return json_response({"metadata": metadata, "timestamp": timestamp, "changes": changes}, 200, headers)
