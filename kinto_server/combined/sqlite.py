"""The combined lineage read in one statement, when the storage and
permission backends share one SQLite file: one statement instead of three
(each costs more than its work on a lookup by key)."""

from kinto_server.combined import Separate
from kinto_server.storage.sqlite import object_from_row


def _marks(count):
    return ", ".join("?" * count)


class SQLiteCombined(Separate):
    """The lineage read in one statement; the creation as :class:`Separate`
    does it (both writes are in the request's transaction anyway)."""

    def __init__(self, storage, permission):
        super().__init__(storage, permission)
        self.client = storage.client

    @classmethod
    def for_backends(cls, storage, permission):
        """An instance when both backends are SQLite on one file, else None."""
        from kinto_server.permission.sqlite import SQLitePermission

        if not isinstance(permission, SQLitePermission) or storage.client is not permission.client:
            return None
        return cls(storage, permission)

    def read_lineage(self, *, keys, lock, user_ids, object_uris):
        parts, params = [], []
        if user_ids:
            parts.append(
                "SELECT 'p', NULL, NULL, NULL, NULL, principal, NULL FROM user_principals"
                f" WHERE user_id IN ({_marks(len(user_ids))})"
            )
            params.extend(user_ids)
        if object_uris:
            parts.append(
                "SELECT 'a', object_id, permission, NULL, NULL, principal, NULL FROM access_control_entries"
                f" WHERE object_id IN ({_marks(len(object_uris))})"
            )
            params.extend(object_uris)
        if keys:
            rows = ", ".join("(?, ?, ?)" for _ in keys)
            parts.append(
                "SELECT 'o', resource_name, parent_id, id, last_modified, NULL, data FROM objects"
                f" WHERE (resource_name, parent_id, id) IN (VALUES {rows}) AND NOT deleted"
            )
            params.extend(value for key in keys for value in key)
        groups, aces, found = set(), {}, {}
        if parts:
            for tag, a, b, c, last_modified, principal, data in self.client.execute(" UNION ALL ".join(parts), params):
                if tag == "p":
                    groups.add(principal)
                elif tag == "a":
                    aces.setdefault(a, {}).setdefault(b, set()).add(principal)
                else:
                    found[(a, b, c)] = object_from_row(c, last_modified, False, data)
        return groups, [aces.get(uri, {}) for uri in object_uris], found
