"""Request bodies larger than ``max_request_body_bytes`` are refused with 413
errno 113 before a view reads them. (waitress buffers chunked bodies and
gives them a Content-Length, so that header is all there is to check.)"""

from kinto_server.errors import ERRORS, json_error


def body_size_tween_factory(handler, registry):
    limit = registry.settings["max_request_body_bytes"]

    def body_size_tween(request):
        length = request.content_length
        if length is not None and length > limit:
            return json_error(
                413,
                ERRORS.REQUEST_TOO_LARGE,
                f"Request body larger than {limit} bytes (the server's max_request_body_bytes setting).",
            )
        return handler(request)

    return body_size_tween
