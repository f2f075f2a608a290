"""Optional features, switched on by listing them in ``kinto.includes``."""

# Kinto's plugin names, accepted so that existing ini files work.
ALIASES = {
    "kinto.plugins.default_bucket": "kinto_server.plugins.default_bucket",
    "kinto.plugins.accounts": "kinto_server.plugins.accounts",
    "kinto.plugins.history": "kinto_server.plugins.history",
    "kinto.plugins.flush": "kinto_server.plugins.flush",
    "kinto.plugins.counters": "kinto_server.plugins.counters",
    "kinto.plugins.prometheus": "kinto_server.plugins.prometheus",
    "kinto.plugins.statsd": "kinto_server.plugins.statsd",
    "kinto.plugins.openid": "kinto_server.plugins.openid",
    "kinto.plugins.admin": "kinto_server.plugins.admin",
    "kinto_changes": "kinto_server.plugins.changes",
    "kinto_attachment": "kinto_server.plugins.attachments",
}


def resolve(name):
    return ALIASES.get(name, name)


def include(config, name):
    """Include the plugin ``name`` of ``kinto.includes`` under /v1."""
    from kinto_server.settings import ConfigurationError

    module = resolve(name)
    try:
        config.include(module, route_prefix="v1")
    except ModuleNotFoundError as error:
        if error.name is None or not module.startswith(error.name):
            raise  # A module the plugin itself needs.
        raise ConfigurationError(
            f"kinto.includes: no plugin {name!r} (module {error.name} not found; is it installed?)"
        ) from None
