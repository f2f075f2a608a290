"""Service-wide behaviour set by the operator: ``Backoff``, end-of-service
``Alert`` (and 410 once the date has passed: the CORS tween answers it,
above routing), read-only mode, and the ``Accept`` negotiation (only JSON
is served)."""

import datetime
import functools

import ujson
from webob.acceptparse import create_accept_header

from kinto_server.errors import ERRORS, json_error, unsupported_header

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
READONLY_MESSAGE = "Method not allowed on this endpoint."  # Kinto's words for a read-only server's 405.


def _end_of_service(settings):
    """(alert header value, passed?) or (None, False) when no date is set."""
    eos = settings["eos"]
    if not eos:
        return None, False
    try:
        date = datetime.date.fromisoformat(eos)
    except ValueError:
        return None, False
    passed = date <= datetime.date.today()
    alert = {
        "code": "hard-eol" if passed else "soft-eol",
        "message": settings["eos_message"],
        "url": settings["eos_url"] or settings["project_docs"],  # Kinto's default.
    }
    return ujson.dumps(alert, escape_forward_slashes=False), passed


def gone(settings):
    """The 410 every request gets once the end-of-service date has passed
    (preflights too, as Kinto), or None before it."""
    _, passed = _end_of_service(settings)
    if not passed:
        return None
    message = "The service you are trying to connect no longer exists at this location."
    return json_error(410, ERRORS.SERVICE_DEPRECATED, message)


@functools.lru_cache(maxsize=64)
def _accept_allows(header, offers=("application/json",)):
    return bool(create_accept_header(header).acceptable_offers(list(offers)))


def _acceptable(request, media_types):
    """Whether the Accept header allows JSON, or one of the other media
    types the path answers (``registry.media_types``: the change stream's
    ``text/event-stream``, which browsers ask for)."""
    # Kinto's root endpoint answers whatever the Accept header says.
    header = request.environ.get("HTTP_ACCEPT")
    if header is None or request.path_info == "/v1/":
        return True
    offers = media_types.get(request.path_info)
    return _accept_allows(header, ("application/json", *offers) if offers else ("application/json",))


def service_headers_tween_factory(handler, registry):
    """``Backoff`` and the end-of-service ``Alert`` on every answer."""
    settings = registry.settings
    backoff = settings["backoff"]
    if backoff is None and not settings["eos"]:
        return handler  # Nothing to add: no tween at all.

    def service_headers_tween(request):
        response = handler(request)
        alert, _ = _end_of_service(settings)
        if backoff is not None:
            response.headers["Backoff"] = str(backoff)
        if alert is not None:
            response.headers["Alert"] = alert
        return response

    return service_headers_tween


def service_state_tween_factory(handler, registry):
    settings = registry.settings
    readonly = settings["readonly"]
    media_types = registry.media_types

    def service_state_tween(request):
        if request.method != "OPTIONS" and not _acceptable(request, media_types):
            response = unsupported_header(406, "Accept")
        elif readonly and request.method in WRITE_METHODS and request.path_info != "/v1/batch":
            response = json_error(405, ERRORS.METHOD_NOT_ALLOWED, READONLY_MESSAGE)
        else:
            response = handler(request)
        return response

    return service_state_tween
