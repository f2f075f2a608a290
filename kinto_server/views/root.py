"""``GET /v1/``: what this server is, its settings, capabilities and the caller."""

from cornice import Service

from kinto_server import __version__
from kinto_server.authentication import shown_principals
from kinto_server.views.rendering import json_response

root = Service(name="hello", path="/", description="Welcome")


def server_url(request):
    settings = request.registry.settings
    scheme = settings["http_scheme"] or request.scheme
    host = settings["http_host"] or request.host
    return f"{scheme}://{host}{request.script_name}/v1/"


def _fixed_parts(registry):
    """What the description holds that no request changes, made once."""
    fixed = getattr(registry, "root_fixed_parts", None)
    if fixed is None:
        settings = registry.settings
        head = {
            "project_name": settings["project_name"],
            "project_version": __version__,
            "http_api_version": settings["http_api_version"],
            "project_docs": settings["project_docs"],
        }
        shown_settings = {
            "batch_max_requests": settings["batch_max_requests"],
            "readonly": settings["readonly"],
            "explicit_permissions": True,
        }
        fixed = registry.root_fixed_parts = (head, shown_settings)
    return fixed


@root.get()
def get_hello(request):
    registry = request.registry
    settings = registry.settings
    head, shown_settings = _fixed_parts(registry)
    body = {
        **head,
        "url": server_url(request),
        "settings": shown_settings,
        # A plugin's capability may depend on the request (a URL of this
        # host), or change once the server runs (the stream's port).
        "capabilities": {
            name: capability(request) if callable(capability) else capability
            for name, capability in registry.capabilities.items()
        },
        "config": registry.config_file,
    }
    if settings["eos"]:
        body["eos"] = settings["eos"]
    user_id = request.authenticated_userid
    if user_id is not None:
        user = {"id": user_id, "principals": sorted(shown_principals(request))}
        if request.registry.user_profiles:
            user["profile"] = request.identity.profile or {}
        default_bucket = request.registry.default_bucket
        if default_bucket is not None:
            user["bucket"] = default_bucket.bucket_id(user_id)
        body["user"] = user
    response = json_response(body)
    if settings["readonly"]:
        # As Kinto: a read-only server's description may be cached.
        response.cache_expires(settings["root_cache_expires_seconds"])
    return response


def includeme(config):
    config.add_cornice_service(root)
