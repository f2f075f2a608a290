"""``GET /v1/changes/stream``: who may open which stream.

The stream server (:mod:`.server`) hands each new connection to this view
through the WSGI application, so that a stream is authenticated, checked
and refused exactly as any request (its 400, 401, 403, 404 and CORS
headers are the API's). The view answers the stream server with a *grant*:
the caller's principals, the resources it may read, and where to start.
Called directly, on the port of ordinary requests, it checks the same and
then redirects (307) to the stream server, so that a client may start
from the URL the API's own root gives.

Parameters:

- ``resources`` (required): comma-separated URIs (``/buckets/b``,
  ``/buckets/b/collections/c``, a group's or a record's), each readable by
  the caller; a bucket means everything in it, a collection its records;
- ``last_event_id``: where to resume, as the ``Last-Event-ID`` header that
  browsers send when they reconnect (the header wins): the ``id`` of the
  last event received.
"""

import re

from cornice import Service
from pyramid.httpexceptions import HTTPException

from kinto_server.errors import ERRORS, cornice_errors_to_response, http_error, invalid_parameters
from kinto_server.resources.target import Target
from kinto_server.resources.tree import is_valid_id, ref_from_uri
from kinto_server.views.rendering import BASE_EXPOSED, json_response

# The environ keys by which the stream server marks its own calls (a client
# can only set HTTP_* keys): a grant, and the recheck of an open stream's.
GRANT_KEY = "kinto_server.stream.grant"
RECHECK_KEY = "kinto_server.stream.recheck"
MAX_RESOURCES = 100
CURSOR = re.compile(r"^[0-9]{1,19}(\.[0-9]{1,19})*$")

stream = Service(
    name="changes-stream",
    path="/changes/stream",
    description="A live stream of the changes the caller may read (Server-Sent Events)",
    error_handler=cornice_errors_to_response,
)
stream.exposed = {"GET": BASE_EXPOSED}
_EVENTS = (
    "Server-Sent Events from the stream server (capabilities.changes_stream.url): `ready` (the start cursor),"
    " `change` (action, uri, resource_name, ids, timestamp, data: the object or its tombstone),"
    " `revoked` (resource: no longer readable, nothing more from it), `reset` (the cursor is older than the"
    " kept changes: resync); each with an `id` to resume from; heartbeat comments."
)
stream.openapi = {
    "get": {
        "description": __doc__,
        "parameters": [
            {
                "name": "resources",
                "in": "query",
                "required": True,
                "description": "Comma-separated URIs of buckets, collections, groups or records the caller may read.",
                "schema": {"type": "string"},
            },
            {
                "name": "ticket",
                "in": "query",
                "required": False,
                "description": "A ticket from POST /v1/changes/stream/tickets: opens the stream as its user, once.",
                "schema": {"type": "string"},
            },
            {
                "name": "last_event_id",
                "in": "query",
                "required": False,
                "description": "Resume after this event id (the Last-Event-ID header wins).",
                "schema": {"type": "string", "pattern": CURSOR.pattern},
            },
        ],
        "responses": {
            "200": {"description": _EVENTS, "content": {"text/event-stream": {"schema": {"type": "string"}}}},
            "307": {"description": "Called on the API's port: the same request, redirected to the stream server."},
        },
    }
}


def parse_resources(request):
    """The refs named by ``resources``, in order, without repeats."""
    raw = request.GET.get("resources")
    if raw is None or not raw.strip():
        raise invalid_parameters("querystring", "resources", "Required")
    refs = []
    for uri in (part.strip() for part in raw.split(",")):
        if uri.startswith("/v1/"):
            uri = uri[3:]
        ref = ref_from_uri(uri) if uri.startswith("/") else None
        max_length = request.registry.settings["max_id_length"]
        if ref is None or not all(is_valid_id(i) and len(i) <= max_length for i in ref.ids):
            raise invalid_parameters(
                "querystring", "resources", f"{uri!r} is not the URI of a bucket or of an object in one"
            )
        if ref not in refs:
            refs.append(ref)
    if len(refs) > MAX_RESOURCES:
        raise invalid_parameters("querystring", "resources", f"At most {MAX_RESOURCES} resources")
    return refs


def parse_cursor(request, storage):
    """The cursor to resume from, or None to start from now."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    if raw is None or raw == "":
        return None
    parts = raw.strip().split(".")
    if not CURSOR.match(raw.strip()) or len(parts) != storage.cursor_length:
        name = "Last-Event-ID" if request.headers.get("Last-Event-ID") else "last_event_id"
        location = "header" if name == "Last-Event-ID" else "querystring"
        raise invalid_parameters(location, name, "Not the id of an event of this stream")
    return [int(part) for part in parts]


def readable(request, ref):
    """The ref the caller may subscribe to (the personal bucket resolved),
    or the API's 401/403/404 for reading it."""
    default_bucket = request.registry.default_bucket
    if default_bucket is not None and ref.ids[0] == "default":
        ref = default_bucket.resolve(request, ref)
    target = Target(request, ref)
    target.require("read")  # As a GET of it (a stream shows more than the attributes).
    target.ensure_parents()
    target.ensure_object()
    return ref


def _caller(request):
    return {
        "user_id": request.authenticated_userid,
        "base_principals": sorted(p for p in request.principals if not p.startswith("/buckets/")),
        "principals": sorted(request.principals),
    }


def still_readable(request, refs):
    uris = []
    for ref in refs:
        try:
            uris.append(readable(request, ref).uri)
        except HTTPException:
            continue
    return uris


@stream.get()
def get_stream(request):
    registry = request.registry
    refs = parse_resources(request)
    cursor = parse_cursor(request, registry.storage)
    if request.environ.get(RECHECK_KEY):
        # An open stream's credentials and access, as they are now: which
        # of its resources it may still read (the others are revoked).
        return json_response({**_caller(request), "resources": still_readable(request, refs)})
    granted = [readable(request, ref).uri for ref in refs]
    if request.environ.get(GRANT_KEY):
        return json_response({**_caller(request), "resources": granted, "cursor": cursor})
    url = registry.stream_url
    if url is None:
        raise http_error(
            503, ERRORS.BACKEND, "The change stream is not served by this server (kinto.changes.stream.listen)."
        )
    query = request.query_string
    return json_response({}, 307, {"Location": f"{url}?{query}" if query else url})
