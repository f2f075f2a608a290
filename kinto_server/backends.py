"""Choosing the storage, permission and cache backends from the settings.

A backend setting (``kinto.storage_backend``...) names a backend class:

- by a short name registered below (``memory``, ``sqlite``, ``postgresql``),
- by the name Kinto's ini files use (``kinto.core.storage.postgresql``...),
  so that existing files keep working,
- or by any ``package.module:Class`` (a third party's backend), or a module
  path that has a ``from_settings(settings)`` factory.

Each class declares what the rest of the server needs to know (the
:class:`Backend` attributes); nothing elsewhere guesses from its name. The
instances live on the registry (``registry.storage``, ``registry.permission``,
``registry.cache``), with ``registry.combined`` for what touches storage and
permission together (:mod:`kinto_server.combined`).
"""

import importlib
import logging

from kinto_server.errors import BackendUnavailable
from kinto_server.settings import ConfigurationError, SchemaOutdated

logger = logging.getLogger(__name__)

ROLES = ("storage", "permission", "cache")

# One line per backend: its short name, then its class for each role.
REGISTERED = {
    "memory": {
        "storage": "kinto_server.storage.memory:MemoryStorage",
        "permission": "kinto_server.permission.memory:MemoryPermission",
        "cache": "kinto_server.cache.memory:MemoryCache",
    },
    "sqlite": {
        "storage": "kinto_server.storage.sqlite:SQLiteStorage",
        "permission": "kinto_server.permission.sqlite:SQLitePermission",
        "cache": "kinto_server.cache.sqlite:SQLiteCache",
    },
    "postgresql": {
        "storage": "kinto_server.storage.postgresql:PostgreSQLStorage",
        "permission": "kinto_server.permission.postgresql:PostgreSQLPermission",
        "cache": "kinto_server.cache.postgresql:PostgreSQLCache",
    },
    "redis": {"cache": "kinto_server.cache.redis:RedisCache"},
    "memcached": {"cache": "kinto_server.cache.memcached:MemcachedCache"},
}


class Backend:
    """What a backend class declares (defaults: a backend that keeps its
    data inside the process and has no schema)."""

    #: Its data is seen by every server process, so several workers may share it.
    shared_across_processes = False
    #: It needs ``kinto.<role>_url``; ``kinto_server init`` writes ``default_url``.
    needs_url = False
    default_url = ""
    #: Its tables come from migrations (``kinto_server migrate``).
    has_schema = False

    def pending_migrations(self):
        """The schema migrations not applied yet (``kinto_server migrate``)."""
        return []

    def migrate(self, dry_run=False):
        """Apply (or, with ``dry_run``, only list) the pending migrations; return them."""
        return []

    def create_schema_if_new(self):
        """At start-up: create the schema of a database that has none yet (an
        embedded store made on first start). An existing, older schema is
        left to ``kinto_server migrate``."""

    #: Why ``kinto_server backup`` copies nothing of it, when ``backup_source()`` is None.
    backup_advice = "its data lives inside the server process: there is nothing to back up"

    def backup_source(self):
        """What ``kinto_server backup`` copies: an object with a ``path`` and a
        ``backup(destination)`` method, the same object for the backends
        that share one database; None when there is nothing the command can
        copy (``backup_advice`` then says what to do)."""
        return None

    def combined_with(self, permission):
        """For a storage backend: a faster :class:`kinto_server.combined.Combined`
        for itself and ``permission`` (e.g. one round trip when both share a
        database), or None for the generic one."""
        return None


def names(role="storage"):
    """The short names a setting may use for ``role``."""
    return [name for name, classes in REGISTERED.items() if role in classes]


def _target(role, value):
    value = value.strip()
    for name, classes in REGISTERED.items():
        aliases = {name, f"kinto.core.{role}.{name}", classes.get(role, "").split(":")[0]}
        if value in aliases and role in classes:
            return classes[role]
    return value


def resolve(role, settings):
    """The class (or factory) configured for ``role``."""
    value = settings[f"{role}_backend"]
    target = _target(role, value)
    module_name, _, attribute = target.partition(":")
    choices = ", ".join(names(role))
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise ConfigurationError(
                f"Unknown {role} backend {value!r}: use one of {choices}, or a module:Class path"
            ) from None
        raise ConfigurationError(f"The {role} backend {value!r} is not available: {error}") from None
    except ImportError as error:
        raise ConfigurationError(f"The {role} backend {value!r} is not available: {error}") from None
    found = getattr(module, attribute or "from_settings", None)
    if found is None:
        raise ConfigurationError(f"The {role} backend {value!r} has no {attribute or 'from_settings'}")
    return found


def load(role, settings):
    """An instance of the backend configured for ``role``."""
    found = resolve(role, settings)
    return found.from_settings(settings) if isinstance(found, type) else found(settings)


def check_schemas(backends):
    """Refuse to start on an outdated schema; start anyway (and answer 503)
    when the database cannot be reached yet."""
    for role, backend in backends.items():
        try:
            backend.create_schema_if_new()
            todo = backend.pending_migrations()
        except BackendUnavailable as error:
            logger.warning("Cannot check the %s schema, database unavailable: %s", role, error)
            continue
        if todo:
            names = ", ".join(str(m) for m in todo)
            raise SchemaOutdated(role, names)


def includeme(config):
    from kinto_server.combined import combined

    settings = config.registry.settings
    registry = config.registry
    loaded = {role: load(role, settings) for role in ROLES}
    for role, backend in loaded.items():
        setattr(registry, role, backend)
    clients = [c for c in (getattr(b, "client", None) for b in loaded.values()) if c is not None]
    registry.database_clients = list({id(c): c for c in clients}.values())
    registry.combined = combined(registry.storage, registry.permission)
    check_schemas(loaded)
    # Every request runs in a transaction of every backend's client (a
    # database transaction, or the undo journal of a memory backend).
    config.include("kinto_server.database.transaction")
