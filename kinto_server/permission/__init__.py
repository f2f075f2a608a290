"""The permission interface: access control entries on object URIs, and the
extra principals (group URIs) that users hold.

An ACE is (object URI, permission, principal). Permissions are plain names
(``read``, ``write``, ``record:create``...); inheritance down the tree is the
resource layer's business, not the backend's.
"""

import abc
from collections import defaultdict

from kinto_server.backends import Backend


class PermissionBackend(Backend, abc.ABC):
    @abc.abstractmethod
    def get_objects_permissions(self, *, object_uris):
        """Return one ``{permission: set(principals)}`` per URI, in order
        (an empty dict for an URI without ACEs)."""

    def get_object_permissions(self, *, object_uri):
        """Return ``{permission: set(principals)}`` for one URI."""
        return self.get_objects_permissions(object_uris=[object_uri])[0]

    @abc.abstractmethod
    def replace_object_permissions(self, *, object_uri, permissions):
        """For each permission named in ``permissions``, replace its principals
        (an empty list removes the permission). Others are left untouched."""

    @abc.abstractmethod
    def delete_object_permissions(self, *, object_uri, with_children=True):
        """Remove the ACEs of ``object_uri`` and, when ``with_children``, of
        every URI below it."""

    @abc.abstractmethod
    def get_accessible_objects(self, *, principals, permissions, uri_prefix=""):
        """Return ``{uri: set(permissions)}`` for the URIs starting with
        ``uri_prefix`` on which one of ``principals`` holds one of ``permissions``."""

    @abc.abstractmethod
    def add_user_principal(self, *, user_id, principal):
        """Give ``user_id`` the extra principal (a group URI)."""

    @abc.abstractmethod
    def remove_user_principal(self, *, user_id, principal):
        """Take the extra principal away from ``user_id`` (no error if absent)."""

    @abc.abstractmethod
    def remove_principal(self, *, principal):
        """Forget a principal whose group or account was deleted: take it away
        from every user, and remove every ACE naming it, so that whoever
        creates a group or account of that name later inherits nothing."""

    @abc.abstractmethod
    def get_user_principals(self, *, user_ids):
        """Return the set of extra principals held by any of ``user_ids``."""

    def shown_user_principals(self, *, user_ids):
        """``get_user_principals`` for what is only shown (``GET /v1/``),
        never checked: a backend may answer from a cache that a change made
        in another process clears a moment after its commit."""
        return self.get_user_principals(user_ids=user_ids)

    def get_principals_and_permissions(self, *, user_ids, object_uris):
        """``(get_user_principals(user_ids), get_objects_permissions(object_uris))``;
        backends may answer both at once."""
        return self.get_user_principals(user_ids=user_ids), self.get_objects_permissions(object_uris=object_uris)

    @abc.abstractmethod
    def import_permissions(self, *, aces=(), memberships=()):
        """Add ``aces`` (``(object_uri, permission, principal)``) and
        ``memberships`` (``(user_id, principal)``) to those stored, in the
        current transaction, in bulk (moving data from another server); one
        already there is kept. Return ``(aces, memberships)``: how many were read."""

    @abc.abstractmethod
    def flush(self):
        """Remove everything."""

    @abc.abstractmethod
    def heartbeat(self):
        """Return True when the backend answers."""


#: What ``import_permissions`` fills, in its order: table, columns.
IMPORTED_TABLES = (
    ("access_control_entries", ("object_id", "permission", "principal")),
    ("user_principals", ("user_id", "principal")),
)


def import_in_chunks(run, statement, params, aces, memberships, size=10_000):
    """``import_permissions`` of an SQL backend: for each table, ``run`` its
    ``statement(table, columns)`` with ``params(chunk)`` for each chunk of
    at most ``size`` rows. Return how many rows each table was given."""
    from kinto_server.storage.sql_common import chunks

    counts = []
    for (table, columns), rows in zip(IMPORTED_TABLES, (aces, memberships), strict=True):
        sql, read = statement(table, columns), 0
        for chunk in chunks(rows, size):
            run(sql, params(chunk, len(columns)))
            read += len(chunk)
        counts.append(read)
    return tuple(counts)


def aces_per_uri(rows, object_uris):
    """``get_objects_permissions``'s answer from ``(uri, permission,
    principal)`` rows."""
    found = defaultdict(lambda: defaultdict(set))
    for uri, permission, principal in rows:
        found[uri][permission].add(principal)
    return [dict(found[uri]) if uri in found else {} for uri in object_uris]


def permissions_per_uri(rows):
    """``get_accessible_objects``'s answer from ``(uri, permission)`` rows."""
    found = defaultdict(set)
    for uri, permission in rows:
        found[uri].add(permission)
    return dict(found)
