"""Kinto's error format: the errno table, the one body builder, and the
exception views that turn every failure into that format.

Nothing else in the project builds an error body.
"""

import enum
import logging

import ujson
from pyramid import httpexceptions
from pyramid.response import Response

# As Kinto sends it: RFC 8259 defines no parameter for JSON (it is UTF-8).
JSON_CONTENT_TYPE = "application/json"

logger = logging.getLogger(__name__)

ERROR_INFO_URL = "https://kinto.readthedocs.io/en/latest/api/1.x/errors.html"


FORBIDDEN_MESSAGE = "This user cannot access this resource."


class ERRORS(enum.IntEnum):
    MISSING_AUTH_TOKEN = 104
    INVALID_AUTH_TOKEN = 105
    BADJSON = 106
    INVALID_PARAMETERS = 107
    MISSING_PARAMETERS = 108
    INVALID_POSTED_DATA = 109
    INVALID_RESOURCE_ID = 110
    MISSING_RESOURCE = 111
    MISSING_CONTENT_LENGTH = 112
    REQUEST_TOO_LARGE = 113
    MODIFIED_MEANWHILE = 114
    METHOD_NOT_ALLOWED = 115
    VERSION_NOT_AVAILABLE = 116
    CLIENT_REACHED_CAPACITY = 117
    FORBIDDEN = 121
    CONSTRAINT_VIOLATED = 122
    UNDEFINED = 999
    BACKEND = 201
    SERVICE_DEPRECATED = 202


# Kinto's 404 of a missing object carries no message, only its details.
NO_MESSAGE = ""


def error_body(code, errno, message=None, details=None, error=None):
    """The JSON body of an error response, as a dict."""
    if error is None and code in (400, 406, 415) and errno == ERRORS.INVALID_PARAMETERS:
        error = "Invalid parameters"
    reason = error or httpexceptions.status_map[code].title
    body = {"code": code, "errno": int(errno), "error": reason}
    if message != NO_MESSAGE:
        body["message"] = message or reason
    if code >= 500:
        body["info"] = ERROR_INFO_URL  # As Kinto: a pointer for server-side failures only.
    if details is not None:
        body["details"] = details
    return body


def http_error(code, errno, message=None, details=None, headers=None, error=None):
    """An HTTP exception carrying Kinto's JSON error body, ready to raise
    (``error``: the reason phrase of the body, when not the status's own)."""
    exc_class = httpexceptions.status_map[code]
    exc = exc_class(headers=headers)
    body = error_body(code, errno, message, details, error)
    exc.body = ujson.dumps(body, escape_forward_slashes=False).encode("utf-8")
    exc.headers["Content-Type"] = JSON_CONTENT_TYPE
    exc.kinto_error = True
    return exc


def json_error(code, errno, message=None, details=None, headers=None):
    """A plain response (not an exception) with Kinto's error body."""
    body = ujson.dumps(error_body(code, errno, message, details), escape_forward_slashes=False)
    response = Response(body=body.encode("utf-8"), status=code)
    response.headers["Content-Type"] = JSON_CONTENT_TYPE
    if headers:
        response.headers.update(headers)
    return response


def validation_message(error):
    """Kinto's message for a validation error: the description alone when it
    names the field already, else ``<name> in <location>: <description>``."""
    name, location, description = error.get("name"), error.get("location") or "body", error.get("description") or ""
    if name is None:
        return f"{location}: {description}"
    if str(name) in description:
        return description
    return f"{name} in {location}: {description}"


def not_a_mapping(value):
    """Colander's wording for a value that should be an object, as Kinto says it."""
    return f'"{value}" is not a mapping type: Does not implement dict-like functionality.'


def validation_details(errors):
    """The ``details`` of a 400, ordered by field name as Kinto orders them."""
    return sorted(errors, key=lambda error: str(error.get("name")))


def invalid_parameters(location, name, description):
    """A 400 errno 107 naming the failing field, as cornice validation errors do."""
    details = [{"location": location, "name": name, "description": description}]
    return http_error(400, ERRORS.INVALID_PARAMETERS, message=validation_message(details[0]), details=details)


def invalid_object_id(kind="object"):
    """Kinto's 400 for an id that is not one, in the path or in a body (the
    personal bucket names the kind of id: ``Invalid collection id``)."""
    details = [{"location": "path", "name": None, "description": f"Invalid {kind} id"}]
    return http_error(400, ERRORS.INVALID_PARAMETERS, f"path: Invalid {kind} id", details)


def unsupported_header(code, header):
    """Kinto's 406 (``Accept``) or 415 (``Content-Type``): errno 107, with details."""
    description = f"{header} header should be one of ['application/json']"
    details = [{"location": "header", "name": header, "description": description}]
    return json_error(code, ERRORS.INVALID_PARAMETERS, description, details)


def cornice_errors_to_response(request):
    """Cornice error handler: collected validation errors become one 400."""
    status = getattr(request.errors, "status", 400)
    if status == 415:
        return unsupported_header(415, "Content-Type")
    return invalid_request(status, list(request.errors))


def invalid_request(status, errors):
    """A 400 (errno 107) listing ``errors``; its message describes the first."""
    details = validation_details(errors) or [{"location": "body", "name": None, "description": "Invalid parameters"}]
    return json_error(status, ERRORS.INVALID_PARAMETERS, validation_message(details[0]), details)


class BackendUnavailable(Exception):
    """A storage, permission or cache backend cannot be reached."""


def _with_kinto_body(exc, request):
    """Give a bare Pyramid HTTP exception (404 route, 405 method...) Kinto's body."""
    code = exc.code
    if code == 404:
        if request.path.startswith("/v1/") or request.path == "/v1":
            return json_error(404, ERRORS.MISSING_RESOURCE, "The resource you are looking for could not be found.")
        return json_error(
            404, ERRORS.VERSION_NOT_AVAILABLE, "The requested API version is not available on this server."
        )
    if code == 405:
        return json_error(405, ERRORS.METHOD_NOT_ALLOWED, "Method not allowed on this endpoint.")
    if code == 406:
        return unsupported_header(406, "Accept")
    if code == 415:
        return unsupported_header(415, "Content-Type")
    if code == 403:
        return json_error(403, ERRORS.FORBIDDEN, FORBIDDEN_MESSAGE)
    if code >= 400:
        return json_error(code, ERRORS.UNDEFINED if code >= 500 else ERRORS.INVALID_PARAMETERS, exc.explanation)
    return exc


def http_exception_view(exc, request):
    if getattr(exc, "kinto_error", False) or exc.code < 400:
        return exc
    response = _with_kinto_body(exc, request)
    if response is not exc:
        for name in ("Location", "Allow", "WWW-Authenticate"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
    return response


def backend_unavailable_view(exc, request):
    logger.error("Backend unavailable: %s", exc)
    retry_after = str(request.registry.settings["retry_after_seconds"])
    return json_error(
        503,
        ERRORS.BACKEND,
        getattr(exc, "public_message", None)
        or "Service temporary unavailable due to overloading or maintenance, please retry later.",
        headers={"Retry-After": retry_after},
    )


def unexpected_error_view(exc, request):
    logger.exception("Unexpected error on %s %s", request.method, request.path)
    return json_error(500, ERRORS.UNDEFINED, "A programmatic error occurred, developers have been informed.")


def includeme(config):
    config.add_view(http_exception_view, context=httpexceptions.HTTPException)
    config.add_view(backend_unavailable_view, context=BackendUnavailable)
    config.add_view(unexpected_error_view, context=Exception)
