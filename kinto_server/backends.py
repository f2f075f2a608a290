"""Choosing the storage, permission and cache backends from the settings.

A backend setting names a kind (``memory`` or ``postgresql``); Kinto's dotted
names (``kinto.core.storage.memory``...) are accepted too, so existing ini
files keep working. The instances live on the registry
(``registry.storage``, ``registry.permission``, ``registry.cache``).
"""

import importlib

from kinto_server.settings import ConfigurationError

IMPLEMENTATIONS = {
    "storage": {
        "memory": "kinto_server.storage.memory:MemoryStorage",
        "postgresql": "kinto_server.storage.postgresql:PostgreSQLStorage",
    },
    "permission": {
        "memory": "kinto_server.permission.memory:MemoryPermission",
        "postgresql": "kinto_server.permission.postgresql:PostgreSQLPermission",
    },
    "cache": {
        "memory": "kinto_server.cache.memory:MemoryCache",
        "postgresql": "kinto_server.cache.postgresql:PostgreSQLCache",
    },
}


def kind_of(value):
    """``memory`` for ``memory``, ``kinto.core.storage.memory``... ."""
    return value.strip().rsplit(".", 1)[-1]


def load(role, settings):
    """An instance of the backend configured for ``role``."""
    value = settings[f"{role}_backend"]
    target = IMPLEMENTATIONS[role].get(kind_of(value))
    if target is None:
        raise ConfigurationError(f"Unknown {role} backend {value!r}")
    module_name, class_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigurationError(f"The {role} backend {value!r} is not available: {error}") from None
    return getattr(module, class_name).from_settings(settings)


def includeme(config):
    settings = config.registry.settings
    for role in ("storage", "permission", "cache"):
        setattr(config.registry, role, load(role, settings))
