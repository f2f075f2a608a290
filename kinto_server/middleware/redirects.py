"""URL normalisation, as Kinto answers it: ``/`` and paths without the
``/v1`` prefix are redirected (307) under it, a trailing slash is removed
(307) unless a plugin serves the path with it (``registry.slash_paths``:
the admin page), and another version prefix is a 404 errno 116."""

import re
from urllib.parse import quote

from pyramid.httpexceptions import HTTPTemporaryRedirect

from kinto_server.errors import ERRORS, json_error

PREFIX = "/v1"
REDIRECT_CACHE_SECONDS = 3600
_OTHER_VERSION = re.compile(r"^/v\d+(/|$)")


def _redirect(request, path):
    # The decoded path may hold any character: the header gets it URL-encoded.
    location = quote(request.script_name + path, safe="/:@!$&'()*+,;=-._~")
    if request.query_string:
        location += "?" + request.query_string
    # As Kinto: clients may cache the redirection for an hour.
    redirect = HTTPTemporaryRedirect(location=location)
    redirect.cache_expires(REDIRECT_CACHE_SECONDS)
    return redirect


def _undecodable_url(request):
    """The 400 for a path or querystring that is not UTF-8 once unquoted."""
    try:
        request.path_info  # noqa: B018 - decoding is the check
    except UnicodeDecodeError:
        return json_error(400, ERRORS.INVALID_PARAMETERS, "The URL path is not valid UTF-8.")
    try:
        request.environ.get("QUERY_STRING") and request.GET  # noqa: B018
    except UnicodeDecodeError:
        return json_error(400, ERRORS.INVALID_PARAMETERS, "The querystring is not valid UTF-8.")
    return None


def redirects_tween_factory(handler, registry):
    slash_paths = frozenset(registry.slash_paths)

    def redirects_tween(request):
        undecodable = _undecodable_url(request)
        if undecodable is not None:
            return undecodable
        path = request.path_info
        if path in ("", "/", PREFIX):
            return _redirect(request, PREFIX + "/")
        if path.startswith(PREFIX + "/"):
            if len(path) > len(PREFIX) + 1 and path.endswith("/") and path not in slash_paths:
                return _redirect(request, path.rstrip("/"))
            return handler(request)
        if _OTHER_VERSION.match(path):
            return json_error(
                404, ERRORS.VERSION_NOT_AVAILABLE, "The requested API version is not available on this server."
            )
        return _redirect(request, PREFIX + path)

    return redirects_tween
