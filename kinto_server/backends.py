"""Choosing the storage, permission and cache backends from the settings.

A backend setting names a kind (``memory`` or ``postgresql``); Kinto's dotted
names (``kinto.core.storage.memory``...) are accepted too, so existing ini
files keep working. The instances live on the registry
(``registry.storage``, ``registry.permission``, ``registry.cache``).
"""

import importlib
import logging

from kinto_server.errors import BackendUnavailable
from kinto_server.settings import ConfigurationError

logger = logging.getLogger(__name__)

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


def _check_schemas(clients_by_role):
    """Refuse to start on an outdated schema; start anyway (and answer 503)
    when the database cannot be reached yet."""
    from kinto_server.database import migrations

    for role, client in clients_by_role.items():
        try:
            todo = migrations.pending(client, role)
        except BackendUnavailable as error:
            logger.warning("Cannot check the %s schema, database unavailable: %s", role, error)
            continue
        if todo:
            names = ", ".join(str(m) for m in todo)
            raise ConfigurationError(
                f"The {role} database schema is not up to date ({names}): run `kinto_server migrate`."
            )


def includeme(config):
    settings = config.registry.settings
    registry = config.registry
    clients_by_role = {}
    for role in ("storage", "permission", "cache"):
        backend = load(role, settings)
        setattr(registry, role, backend)
        client = getattr(backend, "client", None)
        if client is not None:
            clients_by_role[role] = client
    registry.database_clients = {id(c): c for c in clients_by_role.values()}.values()
    from kinto_server.database.fused import fused_creator, fused_reader

    registry.fused_lineage_reader = fused_reader(registry.storage, registry.permission)
    registry.fused_creator = fused_creator(registry.storage, registry.permission)
    _check_schemas({role: client for role, client in clients_by_role.items() if client.has_schema})
    # Every request runs in a transaction of every backend's client (a
    # database transaction, or the undo journal of a memory backend).
    config.include("kinto_server.database.transaction")
