"""SQLite permission backend: ``access_control_entries`` (object URI,
permission, principal) and ``user_principals`` (user id, group URI), as the
PostgreSQL one keeps them."""

import ujson

from kinto_server.database import sqlite
from kinto_server.database.sqlite import SQLiteSchema
from kinto_server.permission import PermissionBackend, aces_per_uri, import_in_chunks, permissions_per_uri

# Lists of values are passed as one JSON parameter, read with json_each.
_IN_URIS = "object_id IN (SELECT value FROM json_each(:uris))"
_IN_USERS = "user_id IN (SELECT value FROM json_each(:users))"
# A prefix, compared byte for byte (LIKE ignores case in SQLite).
_BELOW = "substr(object_id, 1, length(:below)) = :below"


class SQLitePermission(SQLiteSchema, PermissionBackend):
    component = "permission"

    def __init__(self, client):
        self.client = client

    @classmethod
    def from_settings(cls, settings):
        return cls(sqlite.client_for(settings, "permission"))

    def _run(self, sql, params=None):
        return self.client.execute(sql, params)

    def get_objects_permissions(self, *, object_uris):
        if not object_uris:
            return []
        rows = self._run(
            f"SELECT object_id, permission, principal FROM access_control_entries WHERE {_IN_URIS}",
            {"uris": ujson.dumps(list(object_uris))},
        )
        return aces_per_uri(rows, object_uris)

    def replace_object_permissions(self, *, object_uri, permissions):
        for permission, principals in permissions.items():
            wanted = sorted(set(principals))
            self._run(
                "DELETE FROM access_control_entries WHERE object_id = :uri AND permission = :perm"
                " AND principal NOT IN (SELECT value FROM json_each(:wanted))",
                {"uri": object_uri, "perm": permission, "wanted": ujson.dumps(wanted)},
            )
            if wanted:
                self._run(
                    "INSERT OR IGNORE INTO access_control_entries (object_id, permission, principal)"
                    " SELECT :uri, :perm, value FROM json_each(:wanted)",
                    {"uri": object_uri, "perm": permission, "wanted": ujson.dumps(wanted)},
                )

    def delete_object_permissions(self, *, object_uri, with_children=True):
        params = {"uri": object_uri, "below": object_uri + "/"}
        below = f" OR {_BELOW}" if with_children else ""
        self._run(f"DELETE FROM access_control_entries WHERE object_id = :uri{below}", params)

    def get_accessible_objects(self, *, principals, permissions, uri_prefix=""):
        rows = self._run(
            "SELECT object_id, permission FROM access_control_entries"
            " WHERE principal IN (SELECT value FROM json_each(:principals))"
            " AND permission IN (SELECT value FROM json_each(:permissions))"
            f" AND {_BELOW}",
            {
                "principals": ujson.dumps(list(principals)),
                "permissions": ujson.dumps(list(permissions)),
                "below": uri_prefix,
            },
        )
        return permissions_per_uri(rows)

    def import_permissions(self, *, aces=(), memberships=()):
        def statement(table, columns):
            values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
            return f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) SELECT {values} FROM json_each(:rows)"

        def params(chunk, width):  # the rows as one JSON parameter
            return {"rows": ujson.dumps([list(row) for row in chunk], escape_forward_slashes=False)}

        return import_in_chunks(self._run, statement, params, aces, memberships)

    def add_user_principal(self, *, user_id, principal):
        self._run(
            "INSERT OR IGNORE INTO user_principals (user_id, principal) VALUES (:user, :principal)",
            {"user": user_id, "principal": principal},
        )

    def remove_user_principal(self, *, user_id, principal):
        self._run(
            "DELETE FROM user_principals WHERE user_id = :user AND principal = :principal",
            {"user": user_id, "principal": principal},
        )

    def remove_principal(self, *, principal):
        self._run("DELETE FROM user_principals WHERE principal = :principal", {"principal": principal})
        self._run("DELETE FROM access_control_entries WHERE principal = :principal", {"principal": principal})

    def get_user_principals(self, *, user_ids):
        rows = self.client.execute_cached(
            f"SELECT DISTINCT principal FROM user_principals WHERE {_IN_USERS}", {"users": ujson.dumps(list(user_ids))}
        )
        return {row[0] for row in rows}

    def flush(self):
        self._run("DELETE FROM access_control_entries")
        self._run("DELETE FROM user_principals")

    def heartbeat(self):
        return self.client.heartbeat()
