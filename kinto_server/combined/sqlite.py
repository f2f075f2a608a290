"""The combined lineage read in one statement, when the storage and
permission backends share one SQLite file: one statement instead of three
(each costs more than its work on a lookup by key)."""

from kinto_server.combined import Separate, fold_tagged_rows, share_one_database
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

        return cls(storage, permission) if share_one_database(storage, permission, SQLitePermission) else None

    def read_lineage(self, *, keys, lock, user_ids, object_uris):
        sql, params = self.statement(keys, user_ids, object_uris)
        # Cached while the database is unchanged: the same bucket,
        # collection, groups and ACEs are read by nearly every request.
        rows = self.client.execute_cached(sql, params) if sql else []
        return fold_tagged_rows(rows, object_uris, object_from_row)

    @staticmethod
    def statement(keys, user_ids, object_uris):
        """The SQL and parameters of the read (every part a lookup by key:
        ``(a, b, c) IN (VALUES ...)`` would scan the table; one arm per
        object searches its index once, without the de-duplication an OR of
        keys costs)."""
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
        for key in keys:
            parts.append(
                "SELECT 'o', resource_name, parent_id, id, last_modified, NULL, data FROM objects"
                " WHERE resource_name = ? AND parent_id = ? AND id = ? AND NOT deleted"
            )
            params.extend(key)
        return " UNION ALL ".join(parts), params
