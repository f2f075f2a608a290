"""CORS and the headers every answer carries, as Kinto sends them.

- ``Access-Control-Expose-Headers`` depends on the endpoint and the method,
  never on the status: a list's GET exposes ``Next-Page`` and the cache
  headers whether it answers 200, 304 or 403; a method the endpoint does
  not have (405) exposes nothing; a path no endpoint serves, the base list.
- ``OPTIONS`` on an endpoint is a preflight: it needs ``Origin`` and
  ``Access-Control-Request-Method`` (else a 400 naming the missing one),
  the method must be one of the endpoint's, and the answer allows the
  endpoint's methods and every header it exposes plus those requested.
- Past the end-of-service date, every request (preflights included) is a
  410 that exposes the base list, as Kinto answers it before routing.
- ``Allow`` on a 405 lists ``OPTIONS`` too; every answer carries
  ``X-Content-Type-Options: nosniff`` and a Content-Security-Policy that
  allows nothing (an API never needs a browser to run anything).
"""

from pyramid.interfaces import IRoutesMapper
from pyramid.response import Response

from kinto_server.errors import invalid_request
from kinto_server.middleware.service_state import WRITE_METHODS, gone
from kinto_server.views.rendering import BASE_EXPOSED, SECURITY_HEADERS, dumps

MANDATORY = "this header is mandatory"


def _allowed_origin(origins, origin):
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


def exposed_headers(service, method):
    """What a ``method`` answer of ``service`` exposes; None for a 405."""
    if service is None:
        return BASE_EXPOSED
    if method not in service.defined_methods:
        return None
    return getattr(service, "exposed", {}).get(method, BASE_EXPOSED)


def allowed_methods(service, readonly=False):
    """The methods a preflight allows (a read-only server: reads only, but
    for the batch endpoint, whose sub-requests are checked one by one)."""
    methods = service.defined_methods
    if readonly and not getattr(service, "writes_checked_inside", False):
        methods = [m for m in methods if m not in WRITE_METHODS]
    return [*methods, "OPTIONS"]


class Cors:
    def __init__(self, handler, registry):
        self.handler = handler
        settings = registry.settings
        self.origins = settings["cors_origins"]
        self.max_age = settings["cors_max_age_seconds"]
        self.readonly = settings["readonly"]
        self.settings = settings
        self.services = registry.cornice_services
        self.routes = registry.queryUtility(IRoutesMapper)

    def __call__(self, request):
        ended = gone(self.settings) if self.settings["eos"] else None
        if ended is not None:
            return self._finish(request, ended, None)
        if request.method == "OPTIONS":
            service = self._service(self._route(request))
            if service is not None:
                return self._finish(request, self._preflight(request, service), service, preflight=True)
        response = self.handler(request)
        route = request.matched_route
        if route is None and response.status_code not in (404, 307):
            # Answered before routing (a 406, read-only mode...): the
            # endpoint still decides what is exposed.
            route = self._route(request)
        return self._finish(request, response, self._service(route))

    def _route(self, request):
        try:
            return self.routes(request)["route"]
        except UnicodeDecodeError:  # A path that is not UTF-8: no endpoint.
            return None

    def _service(self, route):
        return None if route is None else self.services.get(route.pattern)

    def _preflight(self, request, service):
        headers = request.headers
        origin, method = headers.get("Origin"), headers.get("Access-Control-Request-Method")
        errors = [
            {"location": "header", "name": name, "description": MANDATORY}
            for name, value in (("Origin", origin), ("Access-Control-Request-Method", method))
            if not value
        ]
        allowed = allowed_methods(service, self.readonly)
        if not errors and method not in allowed:
            errors.append(
                {"location": "header", "name": "Access-Control-Request-Method", "description": "Method not allowed"}
            )
        if errors:
            return invalid_request(400, errors)
        supported = dict.fromkeys(h for m in service.defined_methods for h in exposed_headers(service, m))
        requested = headers.get("Access-Control-Request-Headers", "")
        supported.update(dict.fromkeys(h.strip() for h in requested.split(",") if h.strip()))
        response = Response(body=dumps(None), content_type="application/json", charset=None)
        response.headers["Access-Control-Allow-Headers"] = ", ".join(supported)
        response.headers["Access-Control-Allow-Methods"] = ", ".join(allowed)
        if self.max_age is not None:
            response.headers["Access-Control-Max-Age"] = str(self.max_age)
        return response

    def _finish(self, request, response, service, preflight=False):
        headers = response.headers
        if not preflight:
            exposed = exposed_headers(service, request.method)
            if exposed is None:
                headers.pop("Access-Control-Expose-Headers", None)
                if service is not None and response.status_code == 405:
                    headers["Allow"] = ", ".join(allowed_methods(service))
            else:
                headers["Access-Control-Expose-Headers"] = ", ".join(exposed)
        origin = request.environ.get("HTTP_ORIGIN")
        if origin:
            allowed = _allowed_origin(self.origins, origin)
            if allowed:
                headers["Access-Control-Allow-Origin"] = allowed
        if not getattr(response, "has_security_headers", False):
            for name, value in SECURITY_HEADERS.items():
                headers.setdefault(name, value)
        return response


def cors_tween_factory(handler, registry):
    return Cors(handler, registry)
