"""Turning an operation's Outcome into an HTTP response."""

import ujson
from pyramid.response import Response

from kinto_server.errors import JSON_CONTENT_TYPE
from kinto_server.resources.preconditions import timestamp_headers

# On every answer (the CORS tween adds them to those not built here).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; ",
}
BASE_EXPOSED = ("Backoff", "Retry-After", "Alert", "Content-Length", "Content-Type")
OBJECT_EXPOSED = BASE_EXPOSED + ("Last-Modified", "ETag", "Cache-Control", "Expires", "Pragma")
LIST_EXPOSED = OBJECT_EXPOSED + ("Next-Page",)
HEAD_LIST_EXPOSED = LIST_EXPOSED + ("Total-Objects", "Total-Records")


def dumps(body):
    return ujson.dumps(body, escape_forward_slashes=False, ensure_ascii=False).encode("utf-8")


def exposes(service, listing):
    """Declare what ``service``'s GET and HEAD answers expose (the CORS
    tween reads it); other methods expose the base list."""
    if listing:
        service.exposed = {"GET": LIST_EXPOSED, "HEAD": HEAD_LIST_EXPOSED}
    else:
        service.exposed = {"GET": OBJECT_EXPOSED, "HEAD": OBJECT_EXPOSED}
    return service


def json_response(body, status=200, headers=None):
    # The header list is built at once: setting headers one by one on a
    # Response scans the whole list each time (a quarter of a record read).
    fields = {"Content-Type": JSON_CONTENT_TYPE, **SECURITY_HEADERS}
    if headers:
        fields.update(headers)
    response = Response(body=dumps(body), status=status, headerlist=list(fields.items()))
    response.has_security_headers = True
    return response


def render(request, outcome):
    body = {"data": outcome.data}
    if outcome.permissions is not None:
        body["permissions"] = outcome.permissions
    headers = dict(outcome.headers)
    if outcome.timestamp is not None:
        headers.update(timestamp_headers(outcome.timestamp))
    if request.method in ("GET", "HEAD"):
        headers.setdefault("Cache-Control", "no-cache, no-store")
    return json_response(body, outcome.status, headers)
