"""Versioned schema migrations: numbered SQL files under
``migrations/postgresql/<component>/`` (component: storage, permission,
cache; installed as the ``kinto_server.migrations`` package), applied in
order, each in its own transaction together with its row in the
``schema_migrations`` version table. Applying is idempotent, and an
advisory lock keeps two migrating processes from running the same file.
"""

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

from kinto_server.settings import ConfigurationError

MIGRATIONS_DIR = Path(str(files("kinto_server.migrations") / "postgresql"))
COMPONENTS = ("storage", "permission", "cache")
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
LOCK_KEY = 48151623  # pg_advisory_xact_lock key of the migrations

VERSION_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        component TEXT NOT NULL,
        version INTEGER NOT NULL,
        name TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (component, version)
    )
"""


@dataclass(frozen=True)
class Migration:
    component: str
    version: int
    name: str
    path: Path

    def __str__(self):
        return f"{self.component} {self.version:04d}_{self.name}"


def available(component, directory=MIGRATIONS_DIR):
    """The migration files of ``component``, in version order."""
    found = []
    for path in sorted((directory / component).glob("*.sql")):
        match = _FILE.match(path.name)
        if match:
            found.append(Migration(component, int(match.group(1)), match.group(2), path))
    return found


def applied_versions(client, component):
    rows = client.execute(
        VERSION_TABLE + "; SELECT version FROM schema_migrations WHERE component = %(c)s", {"c": component}
    )
    return {row[0] for row in rows}


# Kinto keeps its schema versions in a table of its own; so did it since 2016.
KINTO_VERSIONS = """
    SELECT name, value FROM metadata WHERE name IN ('storage_schema_version', 'permission_schema_version')
"""
KINTO_TABLES = """
    SELECT count(*) FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'metadata' AND column_name IN ('name', 'value')
"""


class KintoSchemaFound(ConfigurationError):
    """The database holds Kinto's tables, which have our tables' names but
    not their columns: nothing of ours may be applied to them."""


def refuse_kinto_schema(client):
    """Raise :class:`KintoSchemaFound` if the database is one Kinto made."""
    if client.execute(KINTO_TABLES)[0][0] != 2:
        return
    versions = dict(client.execute(KINTO_VERSIONS))
    if not versions:
        return
    found = ", ".join(
        f"{component} {versions[f'{component}_schema_version']}"
        for component in ("storage", "permission")
        if f"{component}_schema_version" in versions
    )
    name = urlsplit(client.url).path.lstrip("/") or client.url
    raise KintoSchemaFound(
        f"The database {name} holds Kinto's schema ({found}): kinto_server leaves it as it is. "
        "Give kinto_server a database of its own (kinto.storage_url, permission_url, cache_url), migrate it, "
        f"then copy Kinto's data into it: kinto_server import-kinto --from {client.url} --ini <your ini>"
    )


def pending(client, component, directory=MIGRATIONS_DIR):
    refuse_kinto_schema(client)
    done = applied_versions(client, component)
    return [m for m in available(component, directory) if m.version not in done]


def apply(client, migration):
    """Run one migration file and record it, in one transaction."""
    with client.connect() as transaction:
        transaction.execute("SELECT pg_advisory_xact_lock(%(key)s)", {"key": LOCK_KEY})
        transaction.execute(VERSION_TABLE, None)
        already = transaction.execute(
            "SELECT 1 FROM schema_migrations WHERE component = %(c)s AND version = %(v)s",
            {"c": migration.component, "v": migration.version},
        )
        if already:
            return False
        transaction.execute(migration.path.read_text(encoding="utf-8"), None)
        transaction.execute(
            "INSERT INTO schema_migrations (component, version, name) VALUES (%(c)s, %(v)s, %(n)s)",
            {"c": migration.component, "v": migration.version, "n": migration.name},
        )
        return True


def migrate(client, component, dry_run=False, target=None, directory=MIGRATIONS_DIR):
    """Apply (or, with ``dry_run``, only list) the pending migrations of
    ``component`` up to ``target``; return them."""
    todo = [m for m in pending(client, component, directory) if target is None or m.version <= target]
    if not dry_run:
        todo = [m for m in todo if apply(client, m)]
    return todo


class PostgreSQLSchema:
    """What a PostgreSQL backend declares (see ``kinto_server.backends.Backend``):
    shared by every process, reached by URL, its ``component``'s tables made
    by these migrations."""

    shared_across_processes = True
    needs_url = True
    has_schema = True
    default_url = "postgresql://postgres@127.0.0.1:5432/kinto"  # What ``kinto_server init`` writes.
    component = None  # storage, permission or cache
    backup_advice = "back up PostgreSQL with its own tools: pg_dump -Fc (online, consistent) or continuous archiving"

    def pending_migrations(self):
        return pending(self.client, self.component)

    def migrate(self, dry_run=False):
        return migrate(self.client, self.component, dry_run=dry_run)
