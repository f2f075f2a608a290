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
    "kinto_changes": "kinto_server.plugins.changes",
}


def resolve(name):
    return ALIASES.get(name, name)
