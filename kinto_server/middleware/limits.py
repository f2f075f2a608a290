"""Request bodies larger than ``max_request_body_bytes`` are refused with 413
errno 113 before a view reads them, but on the endpoints of plugins that
take files (``registry.body_size_limits``: path pattern, limit and the
setting that sets it). (waitress buffers chunked bodies and gives them a
Content-Length, so that header is all there is to check.)"""

from kinto_server.errors import ERRORS, json_error


def _limit_for(request, default, exceptions):
    for pattern, limit, setting in exceptions:
        if pattern.match(request.path_info):
            return limit, setting
    return default, "max_request_body_bytes"


def body_size_tween_factory(handler, registry):
    default = registry.settings["max_request_body_bytes"]
    exceptions = list(registry.body_size_limits)

    def body_size_tween(request):
        length = request.content_length
        if length is not None and (length > default or exceptions):
            limit, setting = _limit_for(request, default, exceptions)
            if length > limit:
                return json_error(
                    413,
                    ERRORS.REQUEST_TOO_LARGE,
                    f"Request body larger than {limit} bytes (the server's {setting} setting).",
                )
        return handler(request)

    return body_size_tween
