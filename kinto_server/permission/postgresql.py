"""PostgreSQL permission backend: ``access_control_entries`` (object URI,
permission, principal) and ``user_principals`` (user id, group URI)."""

import functools
from collections import defaultdict

from kinto_server.database import postgresql
from kinto_server.database.migrations import PostgreSQLSchema
from kinto_server.database.postgresql import Prepared
from kinto_server.permission import PermissionBackend, aces_per_uri, import_in_chunks, permissions_per_uri

# The statements of every request (lookups by key) are prepared.
OBJECTS_PERMISSIONS = Prepared(
    "SELECT object_id, permission, principal FROM access_control_entries WHERE object_id = ANY(%(uris)s)"
)


def replacement_ctes(guard="TRUE"):
    """CTEs that give the object ``%(uri)s`` exactly the ACEs
    (``%(perms)s``, ``%(principals)s``) for the permissions ``%(permissions)s``,
    provided the SQL condition ``guard`` holds (a fused write's own).
    Entries that stay are touched by neither half (a row cannot be both
    deleted and inserted by one statement)."""
    return f"""
    wanted AS (
        SELECT p, u FROM unnest(%(perms)s::text[], %(principals)s::text[]) AS v(p, u) WHERE {guard}
    ), removed AS (
        DELETE FROM access_control_entries a
        WHERE {guard} AND a.object_id = %(uri)s AND a.permission = ANY(%(permissions)s)
          AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.p = a.permission AND w.u = a.principal)
    ), added AS (
        INSERT INTO access_control_entries (object_id, permission, principal)
        SELECT %(uri)s, p, u FROM wanted
        ON CONFLICT DO NOTHING
    )
"""


def replacement_params(object_uri, permissions):
    """The parameters of ``replacement_ctes``."""
    rows = [(perm, principal) for perm, principals in permissions.items() for principal in principals]
    return {
        "uri": object_uri,
        "permissions": list(permissions),
        "perms": [p for p, _ in rows],
        "principals": [u for _, u in rows],
    }


REPLACE_PERMISSIONS = Prepared(f"WITH {replacement_ctes()} SELECT 1")
USER_PRINCIPALS = Prepared("SELECT DISTINCT principal FROM user_principals WHERE user_id = ANY(%(users)s)")
PRINCIPALS_AND_PERMISSIONS = Prepared("""
    SELECT NULL, NULL, principal FROM user_principals WHERE user_id = ANY(%(users)s)
    UNION ALL
    SELECT object_id, permission, principal FROM access_control_entries WHERE object_id = ANY(%(uris)s)
""")


# Notified by every change to user_principals (migration 0002).
PRINCIPALS_CHANNEL = "kinto_server_principals"


class CachedPrincipals:
    """Group memberships per set of user ids, for ``GET /v1/`` (which then
    needs nothing from the database), each kept with the notification count
    it was read at (kinto_server.database.notifications): any change to the
    memberships, committed by any process, makes every entry stale, at once
    in the process that made it and as soon as its notification arrives in
    the others. Nothing is kept while the listener is not connected."""

    MAX_ENTRIES = 10_000

    def __init__(self, listener):
        self.listener = listener
        self.kept = {}

    def get(self, user_ids, read):
        generation = self.listener.current()
        if generation is None:
            return read()
        key = tuple(user_ids)
        entry = self.kept.get(key)
        if entry is not None and entry[0] == generation:
            return entry[1]
        found = frozenset(read())
        if self.listener.current() == generation:  # Nothing changed while it was read.
            if len(self.kept) >= self.MAX_ENTRIES:
                self.kept.clear()
            self.kept[key] = (generation, found)
        return found


class PostgreSQLPermission(PostgreSQLSchema, PermissionBackend):
    component = "permission"

    def __init__(self, client):
        self.client = client

    @functools.cached_property
    def listener(self):
        return self.client.listener(PRINCIPALS_CHANNEL)

    @functools.cached_property
    def cached_principals(self):
        return CachedPrincipals(self.listener)

    @classmethod
    def from_settings(cls, settings):
        return cls(postgresql.client_for(settings, "permission"))

    def _run(self, sql, params=None):
        return self.client.execute(sql, params)

    def get_objects_permissions(self, *, object_uris):
        if not object_uris:
            return []
        return aces_per_uri(self._run(OBJECTS_PERMISSIONS, {"uris": list(object_uris)}), object_uris)

    def replace_object_permissions(self, *, object_uri, permissions):
        if permissions:
            self._run(REPLACE_PERMISSIONS, replacement_params(object_uri, permissions))

    def delete_object_permissions(self, *, object_uri, with_children=True):
        if with_children:
            self._run(
                "DELETE FROM access_control_entries WHERE object_id = %(uri)s OR object_id LIKE %(below)s",
                {"uri": object_uri, "below": postgresql.escape_like(object_uri + "/") + "%"},
            )
        else:
            self._run("DELETE FROM access_control_entries WHERE object_id = %(uri)s", {"uri": object_uri})

    def get_accessible_objects(self, *, principals, permissions, uri_prefix=""):
        rows = self._run(
            """
            SELECT object_id, permission FROM access_control_entries
            WHERE principal = ANY(%(principals)s) AND permission = ANY(%(permissions)s)
              AND object_id LIKE %(prefix)s
            """,
            {
                "principals": list(principals),
                "permissions": list(permissions),
                "prefix": postgresql.escape_like(uri_prefix) + "%",
            },
        )
        return permissions_per_uri(rows)

    def import_permissions(self, *, aces=(), memberships=()):
        def statement(table, columns):
            arrays = ", ".join(f"%(c{i})s::text[]" for i in range(len(columns)))
            return f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING"

        def params(chunk, width):  # one array per column
            return {f"c{i}": [row[i] for row in chunk] for i in range(width)}

        self.listener.bump()
        return import_in_chunks(self._run, statement, params, aces, memberships)

    def add_user_principal(self, *, user_id, principal):
        self.listener.bump()  # Before its notification comes back.
        self._run(
            "INSERT INTO user_principals (user_id, principal) VALUES (%(user)s, %(principal)s) ON CONFLICT DO NOTHING",
            {"user": user_id, "principal": principal},
        )

    def remove_user_principal(self, *, user_id, principal):
        self.listener.bump()  # Before its notification comes back.
        self._run(
            "DELETE FROM user_principals WHERE user_id = %(user)s AND principal = %(principal)s",
            {"user": user_id, "principal": principal},
        )

    def remove_principal(self, *, principal):
        self.listener.bump()  # Before its notification comes back.
        self._run(
            """WITH members AS (DELETE FROM user_principals WHERE principal = %(principal)s)
            DELETE FROM access_control_entries WHERE principal = %(principal)s""",
            {"principal": principal},
        )

    def get_user_principals(self, *, user_ids):
        rows = self._run(USER_PRINCIPALS, {"users": list(user_ids)})
        return {row[0] for row in rows}

    def shown_user_principals(self, *, user_ids):
        return self.cached_principals.get(user_ids, lambda: self.get_user_principals(user_ids=user_ids))

    def get_principals_and_permissions(self, *, user_ids, object_uris):
        """Both lookups of a request's access check in one round trip."""
        rows = self._run(
            PRINCIPALS_AND_PERMISSIONS,
            {"users": list(user_ids), "uris": list(object_uris)},
        )
        principals = set()
        found = defaultdict(lambda: defaultdict(set))
        for uri, permission, principal in rows:
            if uri is None:
                principals.add(principal)
            else:
                found[uri][permission].add(principal)
        return principals, [dict(found[uri]) if uri in found else {} for uri in object_uris]

    def flush(self):
        self.listener.bump()
        self._run("TRUNCATE access_control_entries, user_principals")

    def heartbeat(self):
        return self.client.heartbeat()
