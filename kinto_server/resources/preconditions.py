"""Conditional requests: ``If-Match`` and ``If-None-Match`` against an
object's or a list's timestamp."""

from email.utils import formatdate

from pyramid.httpexceptions import HTTPNotModified

from kinto_server.errors import ERRORS, http_error, invalid_parameters


def timestamp_headers(timestamp):
    """``ETag`` and ``Last-Modified`` for a timestamp in milliseconds."""
    return {"ETag": f'"{timestamp}"', "Last-Modified": formatdate(timestamp / 1000.0, usegmt=True)}


# Read from the WSGI environ: WebOb's header mapping is slow for absent headers.
_ENVIRON_KEYS = {"If-Match": "HTTP_IF_MATCH", "If-None-Match": "HTTP_IF_NONE_MATCH"}


def _parse(request, name):
    """None when absent, ``"*"``, or the integer inside the quotes."""
    value = request.environ.get(_ENVIRON_KEYS[name])
    if value is None:
        return None
    value = value.strip()
    if value == "*":
        return "*"
    if len(value) > 2 and value[0] == '"' and value[-1] == '"' and value[1:-1].isdigit():
        return int(value[1:-1])
    raise invalid_parameters("header", name, "The value should be integer between double quotes.")


def modified_meanwhile(current_timestamp=None, existing=None):
    """The 412 answer, with the current ETag when there is one."""
    headers = timestamp_headers(current_timestamp) if current_timestamp is not None else None
    details = {"existing": existing} if existing is not None else None
    return http_error(412, ERRORS.MODIFIED_MEANWHILE, "Resource was modified meanwhile", details, headers)


def check(request, timestamp, exists=True, existing=None, readable=True):
    """Raise 412 (or 304 on reads) when the conditional headers ask so.

    ``timestamp`` is the object's (or list's) current timestamp, ``exists``
    whether the object is there at all, ``existing`` the object to show in
    the 412 details. A caller who may not read the object (``readable``
    false: one allowed only to create) gets a 412 with neither the object
    nor its ETag.
    """
    if_match = _parse(request, "If-Match")
    if_none_match = _parse(request, "If-None-Match")
    # A missing object's 412 may carry its list's timestamp (Kinto's ETag there).
    current = timestamp if readable and (exists or timestamp is not None) else None
    if not readable:
        existing = None
    if if_match is not None and (not exists or if_match not in ("*", timestamp)):
        raise modified_meanwhile(current, existing)
    if if_none_match is not None and exists and if_none_match in ("*", timestamp):
        if if_none_match != "*" and request.method in ("GET", "HEAD"):
            raise HTTPNotModified(headers=timestamp_headers(timestamp))
        raise modified_meanwhile(current, existing)
