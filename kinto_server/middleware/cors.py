"""CORS: ``Access-Control-Allow-Origin`` for allowed origins, preflight
answers to ``OPTIONS``, and the exposed headers every response lists."""

from pyramid.response import Response

from kinto_server.views.rendering import BASE_EXPOSED

ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"


def _allowed_origin(origins, origin):
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


def cors_tween_factory(handler, registry):
    settings = registry.settings
    origins = settings["cors_origins"]
    max_age = settings["cors_max_age_seconds"]
    base_exposed = ", ".join(BASE_EXPOSED)

    def cors_tween(request):
        origin = request.environ.get("HTTP_ORIGIN")
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = Response(status=200, content_type="application/json", body=b"")
            allowed = _allowed_origin(origins, origin) if origin else None
            if allowed:
                response.headers["Access-Control-Allow-Origin"] = allowed
                response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
                requested = request.headers.get("Access-Control-Request-Headers")
                if requested:
                    response.headers["Access-Control-Allow-Headers"] = requested
                if max_age is not None:
                    response.headers["Access-Control-Max-Age"] = str(max_age)
            return response
        response = handler(request)
        if "Access-Control-Expose-Headers" not in response.headers:
            response.headers["Access-Control-Expose-Headers"] = base_exposed
        if origin:
            allowed = _allowed_origin(origins, origin)
            if allowed:
                response.headers["Access-Control-Allow-Origin"] = allowed
        return response

    return cors_tween
