"""Optional features, switched on by listing them in ``kinto.includes``."""

# Kinto's plugin names, accepted so that existing ini files work.
ALIASES = {
    "kinto.plugins.default_bucket": "kinto_server.plugins.default_bucket",
}


def resolve(name):
    return ALIASES.get(name, name)
