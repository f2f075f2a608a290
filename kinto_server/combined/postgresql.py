"""The combined reads and writes in single round trips, when the storage and
permission backends share one PostgreSQL database.

- What every request reads first: the caller's group principals, the ACEs
  of the object's lineage, and the lineage's objects (locked for a write, as
  ``PostgreSQLStorage.get_many(lock_lineage=True)`` does). Three statements'
  worth of answers, tagged row by row.
- A creation and the new object's ACEs (which always change: its creator
  becomes a writer), written together.
"""

from kinto_server.combined import Combined, Separate, fold_tagged_rows, share_one_database
from kinto_server.database.postgresql import Prepared
from kinto_server.permission.postgresql import replacement_ctes, replacement_params
from kinto_server.storage.postgresql import (
    CREATE_CTES,
    LINEAGE_KEYS,
    LOCKED_LINEAGE,
    hold_stamp,
    object_from_row,
    queue_creation,
    stored_object,
    write_params,
)

_PRINCIPALS = """
    SELECT 'p', NULL::text, NULL::text, NULL::text, NULL::bigint, principal, NULL::jsonb
    FROM user_principals WHERE user_id = ANY(%(users)s)
"""
_ACES = """
    SELECT 'a', object_id, permission, NULL::text, NULL::bigint, principal, NULL::jsonb
    FROM access_control_entries WHERE object_id = ANY(%(uris)s)
"""
_OBJECTS = f"""
    SELECT 'o', o.resource_name, o.parent_id, o.id, o.last_modified, NULL::text, o.data
    FROM objects o JOIN {LINEAGE_KEYS}
      ON o.parent_id = k.parent_id AND o.resource_name = k.resource_name AND o.id = k.id
    WHERE NOT o.deleted
"""
_LOCKED = Prepared(
    f"""
    {LOCKED_LINEAGE}
    {_PRINCIPALS} UNION ALL {_ACES}
    UNION ALL SELECT 'o', resource_name, parent_id, id, last_modified, NULL::text, data FROM ancestors
    UNION ALL SELECT 'o', resource_name, parent_id, id, last_modified, NULL::text, data FROM target
""",
    keeps_stamps=True,
)
_UNLOCKED = Prepared(f"{_PRINCIPALS} UNION ALL {_ACES} UNION ALL {_OBJECTS}")
# The ACEs are written only if the object was (not over a live one).
_CREATE_WITH_PERMISSIONS = Prepared(f"""
    WITH {CREATE_CTES}, {replacement_ctes(guard="EXISTS (SELECT 1 FROM written)")}
    SELECT last_modified FROM written
""")


class PostgreSQLCombined(Combined):
    def __init__(self, storage, permission):
        self.storage, self.client = storage, storage.client
        self.separate = Separate(storage, permission)

    @classmethod
    def for_backends(cls, storage, permission):
        """An instance when both backends are PostgreSQL on one database, else None."""
        from kinto_server.permission.postgresql import PostgreSQLPermission

        return cls(storage, permission) if share_one_database(storage, permission, PostgreSQLPermission) else None

    def read_lineage(self, *, keys, lock, user_ids, object_uris):
        if not keys:  # A list of buckets: nothing to fuse.
            return self.separate.read_lineage(keys=keys, lock=lock, user_ids=user_ids, object_uris=object_uris)
        params = {"users": list(user_ids), "uris": list(object_uris)}
        ancestors = keys[:-1] if lock else keys
        columns = [list(c) for c in zip(*ancestors, strict=True)] if ancestors else [[], [], []]
        params.update(resource_names=columns[0], parent_ids=columns[1], ids=columns[2])
        if lock:
            resource_name, parent_id, object_id = keys[-1]
            params.update(resource_name=resource_name, parent_id=parent_id, id=object_id)
        rows = self.client.execute(_LOCKED if lock else _UNLOCKED, params)
        return fold_tagged_rows(rows, object_uris, object_from_row)

    def create(self, *, resource_name, parent_id, obj, object_uri, permissions):
        queued = queue_creation(self.client, resource_name, parent_id, obj)
        if queued is not None:
            group, stamp = queued
            group.add(obj["id"], stamp, obj, object_uri, permissions)
            return stored_object(obj, obj["id"], stamp)
        params = write_params(resource_name, parent_id, obj["id"], obj)
        params.update(replacement_params(object_uri, permissions))
        rows = self.client.execute(_CREATE_WITH_PERMISSIONS, params)
        if not rows:
            self.storage.refuse_existing(resource_name=resource_name, parent_id=parent_id, object_id=obj["id"])
        hold_stamp(self.client, (resource_name, parent_id), rows[0][0])
        return stored_object(obj, obj["id"], rows[0][0])
