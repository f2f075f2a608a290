"""kinto_server: a Kinto-compatible HTTP storage server."""

import logging

from pyramid.config import Configurator

__version__ = "0.1.0"

logger = logging.getLogger(__name__)


def make_config(global_config=None, **raw_settings):
    """The Pyramid configuration of the whole server, ready to make an app."""
    from kinto_server import authentication, config_file, plugins, settings

    typed = settings.load(raw_settings)
    typed["handle_exceptions"] = False  # Our exception views answer, not cornice's.
    config = Configurator(settings=typed)
    registry = config.registry
    registry.capabilities = {}
    registry.default_bucket = None
    # (bucket id, collection id) -> view of a records list computed by a
    # plugin, not stored (kinto-changes' monitor/changes).
    registry.virtual_lists = {}
    # path -> media types it answers besides JSON (an Accept of one of them is no 406)
    registry.media_types = {}
    registry.slash_paths = set()
    # (path pattern, byte limit): plugins' endpoints taking larger bodies than max_request_body_bytes
    registry.body_size_limits = []  # paths answered with their trailing slash (the admin page's)
    registry.root_permissions_extra = {}  # plugins' root permissions (account:create...)
    # plugins' objects in GET /v1/permissions: (uri, permissions held) -> entry or None
    registry.permission_entries_extra = []
    registry.authentication_sources = dict(authentication.SOURCES)
    registry.implicit_authentication_sources = []  # plugins' sources, asked before the configured ones
    registry.openid_sources = {}  # OpenID Connect providers by policy name
    registry.user_profiles = False  # GET /v1/ shows the user's "profile" (OpenID plugin)
    registry.openapi_security_schemes = {}  # plugins' authentication methods in /v1/__api__
    registry.config_file = config_file.describe((global_config or {}).get("__file__"))

    config.include("kinto_server.request")
    config.include("cornice")
    config.include("kinto_server.errors")
    config.include("kinto_server.metrics")
    config.include("kinto_server.middleware")
    config.include("kinto_server.events")
    config.include("kinto_server.backends")
    config.include("kinto_server.views.resources", route_prefix="v1")
    config.include("kinto_server.views.root", route_prefix="v1")
    config.include("kinto_server.views.heartbeat", route_prefix="v1")
    config.include("kinto_server.views.batch", route_prefix="v1")
    config.include("kinto_server.resources.validation")
    config.include("kinto_server.views.permissions", route_prefix="v1")
    config.include("kinto_server.views.user_data", route_prefix="v1")
    for name in typed["includes"]:
        plugins.include(config, name)
    config.include("kinto_server.authentication")
    config.include("kinto_server.views.openapi", route_prefix="v1")
    from kinto_server.request import adopt_request_extensions

    adopt_request_extensions(config)
    _warn_about_secrets(typed)
    for key, close in settings.unknown_settings(raw_settings):
        hint = f" (did you mean {close}?)" if close else ""
        logger.warning("Unknown setting %s%s: it is ignored.", key, hint)
    return config


def _warn_about_secrets(typed):
    from kinto_server.settings import EXAMPLE_SECRETS

    secret = typed["userid_hmac_secret"]
    if not secret:
        logger.warning("kinto.userid_hmac_secret is empty: Basic Auth user ids are predictable.")
    elif secret in EXAMPLE_SECRETS:
        logger.warning(
            "kinto.userid_hmac_secret is the public example value of the shipped ini files: user ids, "
            "default buckets and pagination tokens are predictable. Set your own "
            "(`kinto_server init` writes an ini with a new one)."
        )


def main(global_config=None, **settings):
    """PasteDeploy entry point: the WSGI application."""
    return make_config(global_config, **settings).make_wsgi_app()
