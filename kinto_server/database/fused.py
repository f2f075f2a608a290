"""One round trip for what every request reads first, when the storage and
permission backends share one PostgreSQL database: the caller's group
principals, the ACEs of the object's lineage, and the lineage's objects
(locked for a write, as ``PostgreSQLStorage.get_many(lock_lineage=True)``
does). Three statements' worth of answers, tagged row by row."""

from kinto_server.database import Prepared
from kinto_server.storage.postgresql import LINEAGE_KEYS, LOCKED_LINEAGE, object_from_row

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
_LOCKED = Prepared(f"""
    {LOCKED_LINEAGE}
    {_PRINCIPALS} UNION ALL {_ACES}
    UNION ALL SELECT 'o', resource_name, parent_id, id, last_modified, NULL::text, data FROM ancestors
    UNION ALL SELECT 'o', resource_name, parent_id, id, last_modified, NULL::text, data FROM target
""")
_UNLOCKED = Prepared(f"{_PRINCIPALS} UNION ALL {_ACES} UNION ALL {_OBJECTS}")


def fused_reader(storage, permission):
    """The reader, or None when the backends are not PostgreSQL on one database."""
    from kinto_server.permission.postgresql import PostgreSQLPermission
    from kinto_server.storage.postgresql import PostgreSQLStorage

    if not isinstance(storage, PostgreSQLStorage) or not isinstance(permission, PostgreSQLPermission):
        return None
    if storage.client is not permission.client:
        return None
    client = storage.client

    def read(*, keys, lock, user_ids, object_uris):
        """(group principals, ACEs per URI in order, {key: object})."""
        params = {"users": list(user_ids), "uris": list(object_uris)}
        ancestors = keys[:-1] if lock else keys
        columns = [list(c) for c in zip(*ancestors, strict=True)] if ancestors else [[], [], []]
        params.update(resource_names=columns[0], parent_ids=columns[1], ids=columns[2])
        if lock:
            resource_name, parent_id, object_id = keys[-1]
            params.update(resource_name=resource_name, parent_id=parent_id, id=object_id)
        groups, aces, found = set(), {}, {}
        for tag, a, b, c, last_modified, principal, data in client.execute(_LOCKED if lock else _UNLOCKED, params):
            if tag == "p":
                groups.add(principal)
            elif tag == "a":
                aces.setdefault(a, {}).setdefault(b, set()).add(principal)
            else:
                found[(a, b, c)] = object_from_row(c, last_modified, False, data)
        return groups, [aces.get(uri, {}) for uri in object_uris], found

    return read
