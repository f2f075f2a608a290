"""What touches storage and permission together, behind one seam chosen at
start-up: the lineage read every request begins with, and a creation with
the new object's ACEs.

Resources always call ``registry.combined``. :class:`Separate` does it with
the storage and permission interfaces; a storage backend may offer a faster
one for a given permission backend (``Backend.combined_with``), such as
PostgreSQL's single round trips when both share a database
(:mod:`kinto_server.combined.postgresql`).
"""

import abc


class Combined(abc.ABC):
    """The interface; :class:`Separate` is the generic implementation."""

    @abc.abstractmethod
    def read_lineage(self, *, keys, lock, user_ids, object_uris):
        """``(groups, acls, found)``: the group principals of ``user_ids`` (a
        set), the ACEs of each of ``object_uris`` in order (``{permission:
        set(principals)}``), and the live objects of ``keys`` (``{key:
        object}``), locked for the request's transaction when ``lock``."""

    @abc.abstractmethod
    def create(self, *, resource_name, parent_id, obj, object_uri, permissions):
        """``storage.create`` then ``permission.replace_object_permissions``
        (ObjectExistsError included): the stored object."""


class Separate(Combined):
    def __init__(self, storage, permission):
        self.storage, self.permission = storage, permission

    def read_lineage(self, *, keys, lock, user_ids, object_uris):
        groups, acls = self.permission.get_principals_and_permissions(user_ids=user_ids, object_uris=object_uris)
        return groups, acls, self.storage.get_many(keys=keys, lock_lineage=lock)

    def create(self, *, resource_name, parent_id, obj, object_uri, permissions):
        new = self.storage.create(resource_name=resource_name, parent_id=parent_id, obj=obj)
        self.permission.replace_object_permissions(object_uri=object_uri, permissions=permissions)
        return new


def share_one_database(storage, permission, permission_class):
    """Whether ``permission`` is a ``permission_class`` on the very client
    (database) of ``storage``: what a one-statement implementation needs."""
    return isinstance(permission, permission_class) and storage.client is permission.client


def combined(storage, permission):
    """The storage backend's own implementation, or the generic one."""
    return storage.combined_with(permission) or Separate(storage, permission)


def fold_tagged_rows(rows, object_uris, object_from_row):
    """``read_lineage``'s answer from one statement's rows, each tagged ``p``
    (a group principal), ``a`` (an ACE: uri, permission, principal) or ``o``
    (an object: resource name, parent id, id, last_modified, data)."""
    groups, aces, found = set(), {}, {}
    for tag, a, b, c, last_modified, principal, data in rows:
        if tag == "p":
            groups.add(principal)
        elif tag == "a":
            aces.setdefault(a, {}).setdefault(b, set()).add(principal)
        else:
            found[(a, b, c)] = object_from_row(c, last_modified, False, data)
    return groups, [aces.get(uri, {}) for uri in object_uris], found
