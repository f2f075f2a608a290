"""The storage interface: objects kept by (resource name, parent id, object id).

A *parent id* is the URI of the parent object (``/buckets/b/collections/c``
for records, ``""`` for buckets). Every object has an ``id`` and a
``last_modified`` timestamp in milliseconds that the backend assigns: unique
and strictly increasing among the objects sharing a (resource name, parent
id), tombstones included. Deleting an object leaves a tombstone
``{"id", "last_modified", "deleted": True}`` so that change feeds can report it.

A backend may also keep a *change log* (``has_change_log``): every create,
update and delete of the request's transaction, appended in commit order and
read back from a cursor by the live change stream
(:mod:`kinto_server.plugins.stream`). A cursor is a tuple of integers whose
meaning is the backend's; everything up to it has been read.
"""

import abc
import enum
import re
from dataclasses import dataclass
from typing import Any

from kinto_server.backends import Backend


class StorageError(Exception):
    """Base class of the storage's domain exceptions."""


class ObjectNotFoundError(StorageError):
    """No live object has this id under this parent."""


class ObjectExistsError(StorageError):
    """An object with this id already exists under this parent."""

    def __init__(self, existing):
        super().__init__(existing.get("id"))
        self.existing = existing


class UnindexableField(StorageError):
    """A field that this backend cannot index (the message says why)."""


class ImportConflict(StorageError):
    """An imported object has the key, or the timestamp within its parent,
    of one already stored."""


@dataclass(frozen=True)
class Imported:
    """An object as :meth:`Storage.import_objects` takes it: ``data`` is
    its fields but ``id`` and ``last_modified`` (ignored for a tombstone)."""

    resource_name: str
    parent_id: str
    id: str
    last_modified: int
    deleted: bool
    data: dict


class Operator(enum.Enum):
    EQ = "eq"
    NOT = "not"
    IN = "in"
    EXCLUDE = "exclude"
    LT = "lt"
    GT = "gt"
    MIN = "min"
    MAX = "max"
    HAS = "has"
    LIKE = "like"
    CONTAINS = "contains"
    CONTAINS_ANY = "contains_any"


@dataclass(frozen=True)
class Filter:
    """``field`` (dotted for nested values) compared with ``value`` by ``operator``."""

    field: str
    value: Any
    operator: Operator = Operator.EQ


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool = False


# Newest first: what lists return unless asked otherwise.
DEFAULT_SORT = (Sort("last_modified", descending=True),)


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_trim(resource_name, equal, keep, slack):
    """Refuse what :meth:`Storage.trim_objects` cannot take: the SQL
    backends write these names into the statement (they come from code)."""
    if not all(_IDENTIFIER.match(name) for name in [resource_name, *equal]) or keep < 1 or slack < 0:
        raise ValueError(f"cannot trim {resource_name!r} on {sorted(equal)} keeping {keep} (+{slack})")


def check_indexable(field):
    """UnindexableField unless ``field`` names a data field."""
    if not field or field in ("id", "last_modified") or any(not part for part in field.split(".")) or "\x00" in field:
        raise UnindexableField(f"{field!r} is not a data field to index (id and last_modified always are)")


@dataclass(frozen=True)
class Change:
    """One write of the change log: ``obj`` is the object as written (the
    tombstone for a delete)."""

    cursor: tuple
    action: str  # create, update or delete
    resource_name: str
    parent_id: str
    obj: dict


@dataclass(frozen=True)
class ChangesPage:
    """What :meth:`Storage.changes_after` read: ``changes`` in commit order,
    and ``cursor``, the position to read on from (past the last change, and
    past writes that can no longer commit before it). ``reset`` means that
    the requested cursor could not be followed (older than the oldest change
    kept, or from another log): the reader missed changes and must resync;
    ``cursor`` is then the log's current end."""

    changes: list
    cursor: tuple
    reset: bool = False


class Storage(Backend, abc.ABC):
    """What the resource layer needs from a storage backend."""

    @abc.abstractmethod
    def resource_timestamp(self, *, resource_name, parent_id):
        """Return the highest timestamp among these objects and their tombstones.

        When there has never been any object there, return the current time
        (and remember it, so the answer is stable until the next write).
        """

    @abc.abstractmethod
    def get(self, *, resource_name, parent_id, object_id):
        """Return the live object, or raise :class:`ObjectNotFoundError`."""

    @abc.abstractmethod
    def get_many(self, *, keys, lock_lineage=False):
        """Return ``{(resource_name, parent_id, object_id): object}`` for the live
        objects among ``keys``; missing ones are absent from the result.

        With ``lock_lineage`` (``keys`` being an object's ancestors then the
        object), a transactional backend locks them until the end of the
        transaction: the ancestors so that they cannot be deleted meanwhile,
        the object itself so that a concurrent write waits, and then sees this
        one, before checking its preconditions."""

    @abc.abstractmethod
    def create(self, *, resource_name, parent_id, obj):
        """Store a new object (``obj["id"]`` is required) and return it with its
        ``last_modified``. Raise :class:`ObjectExistsError` if it exists. A
        tombstone with the same id is replaced."""

    def create_many(self, *, resource_name, parent_id, objs):
        """Store new objects (each with its ``id``; their ``last_modified``
        is ignored) under one parent, as :meth:`create` would one after the
        other, and return them with their timestamps, increasing in the
        order given. Raise :class:`ObjectExistsError` at the first that
        exists (what was stored before it is the transaction's to undo). The
        SQL backends write them by hundreds a statement."""
        created = []
        for obj in objs:
            obj = {k: v for k, v in obj.items() if k != "last_modified"}
            created.append(self.create(resource_name=resource_name, parent_id=parent_id, obj=obj))
        return created

    @abc.abstractmethod
    def update(self, *, resource_name, parent_id, object_id, obj):
        """Create or replace the object and return it with a new timestamp.

        A ``last_modified`` in ``obj`` is kept only if it is higher than every
        timestamp under this parent, so every write stays visible to ``_since``.
        """

    @abc.abstractmethod
    def delete(self, *, resource_name, parent_id, object_id, last_modified=None):
        """Delete the object, leave a tombstone and return it. Raise
        :class:`ObjectNotFoundError` if there is no live object."""

    @abc.abstractmethod
    def delete_all(self, *, resource_name, parent_id, filters=(), object_ids=None):
        """Delete every live object matching ``filters`` (and whose id is in
        ``object_ids`` when given), leaving tombstones; return the tombstones."""

    @abc.abstractmethod
    def delete_tree(self, *, parent_uri):
        """Remove, without tombstones, every object and tombstone of any resource
        whose parent id is ``parent_uri`` or lies below it (cascading deletes)."""

    @abc.abstractmethod
    def purge_deleted(self, *, resource_name, parent_id, before=None):
        """Remove tombstones (older than ``before`` when given); return how many."""

    @abc.abstractmethod
    def list_all(
        self,
        *,
        resource_name,
        parent_id,
        filters=(),
        sorting=DEFAULT_SORT,
        after=None,
        limit=None,
        include_deleted=False,
        object_ids=None,
    ):
        """Return the matching objects in ``sorting`` order (ties broken by id).

        ``after`` is a pagination key: the sort values (and ``id``) of the last
        object of the previous page; only objects strictly after it are returned.
        ``object_ids``, when given, restricts the result to those ids (used to
        list only the objects shared with a user). Tombstones are included
        when ``include_deleted`` is true.
        """

    @abc.abstractmethod
    def count_by_resource(self, *, resource_names):
        """``{resource_name: (live objects, tombstones)}`` over every parent,
        for the names among ``resource_names`` that have any (the counters
        plugin)."""

    @abc.abstractmethod
    def trim_objects(self, *, resource_name, parent_id, equal, keep, slack=0):
        """Once more than ``keep + slack`` live objects here have the values of
        ``equal`` (``{field: string}``, top-level fields named like Python
        identifiers), remove for good, without tombstones, all but the newest
        ``keep`` of them; return the removed ids (``[]`` until then).

        The history's bound: its cost follows ``keep + slack``, not the
        number of objects, where an index serves ``equal`` (the SQL backends
        have one for history entries by resource name, and by resource name
        and user)."""

    def list_with_timestamp(self, **kwargs):
        """``(list_all(**kwargs), resource_timestamp(...))`` read consistently:
        the timestamp is the list's ETag, and never runs ahead of it."""
        timestamp = self.resource_timestamp(resource_name=kwargs["resource_name"], parent_id=kwargs["parent_id"])
        return self.list_all(**kwargs), timestamp

    @abc.abstractmethod
    def count_all(self, *, resource_name, parent_id, filters=(), object_ids=None):
        """Return the number of live objects matching ``filters``."""

    def count_with_timestamp(self, **kwargs):
        """``(count_all(**kwargs), resource_timestamp(...))`` read consistently
        (a HEAD's ``Total-Records`` and ETag)."""
        timestamp = self.resource_timestamp(resource_name=kwargs["resource_name"], parent_id=kwargs["parent_id"])
        return self.count_all(**kwargs), timestamp

    #: It implements the change log methods below.
    has_change_log = False
    #: How many integers a cursor of its change log has.
    cursor_length = 1

    def log_changes(self, changes):
        """Append ``changes``, ``(action, resource_name, parent_id, obj)``
        tuples, to the change log, in the current transaction."""
        raise NotImplementedError

    def changes_after(self, cursor, limit):
        """The :class:`ChangesPage` of at most ``limit`` committed changes
        after ``cursor`` (None: none, only the log's current end)."""
        raise NotImplementedError

    def purge_changes(self, before_ms):
        """Forget the changes logged before ``before_ms`` (epoch
        milliseconds): a cursor from before them then reads ``reset``."""
        raise NotImplementedError

    @abc.abstractmethod
    def import_objects(self, objects, timestamps=()):
        """Store ``objects`` (:class:`Imported`, any number, in any order)
        as they are, their timestamps kept, in the current transaction:
        what moving data from another server needs. ``timestamps`` are
        ``(resource_name, parent_id, last_modified)`` of parents whose
        timestamp is above their newest object's (their tombstones were
        purged); every parent's timestamp ends at least at its newest
        object's, so the next write there gets a higher one and a ``_since``
        poll started elsewhere misses nothing. Raise :class:`ImportConflict`
        if an object has the key, or the timestamp in its parent, of one
        already stored. Nothing goes to the change log: no write happened.
        Return how many objects were stored."""

    def declare_index(self, *, resource_name, parent_id, field):
        """Keep the data ``field`` (dotted when nested) of this parent's
        objects indexed, so that sorts on it (both directions, page after
        page) and equality filters on a number or string (on PostgreSQL,
        any JSON scalar) read an index rather than every object; idempotent. Built without blocking writes where the
        database can (PostgreSQL). :class:`UnindexableField` if the
        backend cannot index it."""
        check_indexable(field)
        with self._declarations_lock:
            self._declared.add((resource_name, parent_id, field))

    def drop_index(self, *, resource_name, parent_id, field):
        """Forget a declaration of :meth:`declare_index` and its indexes."""
        with self._declarations_lock:
            self._declared.discard((resource_name, parent_id, field))

    def declared_indexes(self):
        """``[(resource_name, parent_id, field)]`` declared, in order."""
        with self._declarations_lock:
            return sorted(self._declared)

    @abc.abstractmethod
    def flush(self):
        """Remove everything (tests and the flush endpoint)."""

    @abc.abstractmethod
    def heartbeat(self):
        """Return True when the backend answers."""
