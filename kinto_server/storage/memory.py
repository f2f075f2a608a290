"""In-memory storage, for tests and quick starts. Nothing survives a restart.

Objects sharing a (resource name, parent id) live in one ``_Siblings``: two
dicts (live objects and tombstones) whose insertion order is always the order
of ``last_modified``, because every write removes the entry and appends it
again with a timestamp higher than any before it. The default sort
(``-last_modified``) and ``_since`` therefore read the newest entries first
and stop as soon as the page is full, without sorting the collection.
"""

import heapq
import threading
import time
from collections import deque
from itertools import islice

from kinto_server.database.journal import Journal
from kinto_server.storage import (
    DEFAULT_SORT,
    Change,
    ChangesPage,
    ImportConflict,
    ObjectExistsError,
    ObjectNotFoundError,
    Operator,
    Storage,
    check_trim,
)
from kinto_server.storage.evaluation import object_key, predicate


def now_ms():
    return int(time.time() * 1000)


class _Siblings:
    __slots__ = ("objects", "tombstones", "timestamp")

    def __init__(self):
        self.objects = {}
        self.tombstones = {}
        self.timestamp = 0

    def next_timestamp(self, requested=None):
        """A timestamp above every other one here: the clock, bumped by one
        when two writes share a millisecond (or the clock went back)."""
        timestamp = max(now_ms(), self.timestamp + 1)
        if isinstance(requested, int) and not isinstance(requested, bool) and requested > timestamp:
            timestamp = requested
        self.timestamp = timestamp
        return timestamp


def _by_last_modified(entries, descending):
    return reversed(entries.values()) if descending else iter(entries.values())


def _timestamp_window(filters):
    """(lowest, highest) ``last_modified`` the filters allow, both inclusive."""
    low, high = float("-inf"), float("inf")
    for flt in filters:
        if flt.field != "last_modified" or not isinstance(flt.value, int):
            continue
        if flt.operator is Operator.GT:
            low = max(low, flt.value + 1)
        elif flt.operator is Operator.MIN:
            low = max(low, flt.value)
        elif flt.operator is Operator.LT:
            high = min(high, flt.value - 1)
        elif flt.operator is Operator.MAX:
            high = min(high, flt.value)
    return low, high


def _within(objects, window, descending):
    """The objects (in timestamp order) inside ``window``: skips those before
    it and stops at the first one past it."""
    low, high = window
    first, last = (high, low) if descending else (low, high)
    for obj in objects:
        stamp = obj["last_modified"]
        if (stamp > first) if descending else (stamp < first):
            continue
        if (stamp < last) if descending else (stamp > last):
            return
        yield obj


def _reorder(siblings):
    """Restore timestamp order after an undo put entries back at the end."""
    for name in ("objects", "tombstones"):
        entries = getattr(siblings, name)
        setattr(siblings, name, dict(sorted(entries.items(), key=lambda item: item[1]["last_modified"])))


def _copy(siblings):
    copied = _Siblings()
    copied.objects, copied.tombstones, copied.timestamp = (
        dict(siblings.objects),
        dict(siblings.tombstones),
        siblings.timestamp,
    )
    return copied


class MemoryStorage(Storage):
    def __init__(self):
        self._lock = threading.RLock()
        self._siblings = {}
        # Indexes are declared, not built: lists are sorted in Python.
        self._declared, self._declarations_lock = set(), self._lock
        # The change log: (logged at in ms, Change), in commit order, which
        # is the order of the cursors (a counter). Cursors up to ``_oldest``
        # were forgotten.
        self._changes = deque()
        self._last_cursor = 0
        self._oldest = 0
        # Request transactions: driven by the transaction tween.
        self.client = Journal()

    def _remember(self, siblings, object_id):
        """Register how to undo the change about to be made to ``object_id``."""
        obj, tombstone = siblings.objects.get(object_id), siblings.tombstones.get(object_id)

        def undo():
            # The parent's timestamp stays where the undone write took it:
            # a reader may have been given it as an ETag meanwhile (reads do
            # not wait for writes on memory), and the next write must still
            # get a higher one, or a `_since` from that ETag would miss it.
            with self._lock:
                siblings.objects.pop(object_id, None)
                siblings.tombstones.pop(object_id, None)
                if obj is not None:
                    siblings.objects[object_id] = obj
                if tombstone is not None:
                    siblings.tombstones[object_id] = tombstone
                _reorder(siblings)

        self.client.record(undo)

    @classmethod
    def from_settings(cls, settings):
        return cls()

    def _get_siblings(self, resource_name, parent_id, create=False):
        key = (resource_name, parent_id)
        siblings = self._siblings.get(key)
        if siblings is None and create:
            siblings = self._siblings[key] = _Siblings()
        return siblings

    def resource_timestamp(self, *, resource_name, parent_id):
        with self._lock:
            siblings = self._get_siblings(resource_name, parent_id, create=True)
            if siblings.timestamp == 0:
                siblings.timestamp = now_ms()
            return siblings.timestamp

    def get(self, *, resource_name, parent_id, object_id):
        siblings = self._siblings.get((resource_name, parent_id))
        obj = siblings.objects.get(object_id) if siblings is not None else None
        if obj is None:
            raise ObjectNotFoundError(object_id)
        return dict(obj)

    def get_many(self, *, keys, lock_lineage=False):
        # Write requests on memory are serialized as a whole (see
        # kinto_server.database.journal): no lock is needed here.
        found = {}
        for resource_name, parent_id, object_id in keys:
            siblings = self._siblings.get((resource_name, parent_id))
            obj = siblings.objects.get(object_id) if siblings is not None else None
            if obj is not None:
                found[(resource_name, parent_id, object_id)] = dict(obj)
        return found

    def _store(self, siblings, object_id, obj):
        self._remember(siblings, object_id)
        stored = dict(obj)
        stored["id"] = object_id
        stored["last_modified"] = siblings.next_timestamp(obj.get("last_modified"))
        siblings.objects.pop(object_id, None)
        siblings.tombstones.pop(object_id, None)
        siblings.objects[object_id] = stored
        return dict(stored)

    def create(self, *, resource_name, parent_id, obj):
        with self._lock:
            siblings = self._get_siblings(resource_name, parent_id, create=True)
            existing = siblings.objects.get(obj["id"])
            if existing is not None:
                raise ObjectExistsError(dict(existing))
            return self._store(siblings, obj["id"], obj)

    def update(self, *, resource_name, parent_id, object_id, obj):
        with self._lock:
            siblings = self._get_siblings(resource_name, parent_id, create=True)
            return self._store(siblings, object_id, obj)

    def _delete_one(self, siblings, object_id, last_modified=None):
        self._remember(siblings, object_id)
        del siblings.objects[object_id]
        tombstone = {
            "id": object_id,
            "last_modified": siblings.next_timestamp(last_modified),
            "deleted": True,
        }
        siblings.tombstones[object_id] = tombstone
        return dict(tombstone)

    def delete(self, *, resource_name, parent_id, object_id, last_modified=None):
        with self._lock:
            siblings = self._get_siblings(resource_name, parent_id)
            if siblings is None or object_id not in siblings.objects:
                raise ObjectNotFoundError(object_id)
            return self._delete_one(siblings, object_id, last_modified)

    def delete_all(self, *, resource_name, parent_id, filters=(), object_ids=None):
        with self._lock:
            siblings = self._get_siblings(resource_name, parent_id)
            if siblings is None:
                return []
            wanted = predicate(filters)
            doomed = [
                obj["id"]
                for obj in siblings.objects.values()
                if (object_ids is None or obj["id"] in object_ids) and wanted(obj)
            ]
            return [self._delete_one(siblings, object_id) for object_id in doomed]

    def count_by_resource(self, *, resource_names):
        counts = {}
        with self._lock:
            for (resource_name, _), siblings in self._siblings.items():
                if resource_name in resource_names and (siblings.objects or siblings.tombstones):
                    live, tombstones = counts.get(resource_name, (0, 0))
                    counts[resource_name] = (live + len(siblings.objects), tombstones + len(siblings.tombstones))
        return counts

    def trim_objects(self, *, resource_name, parent_id, equal, keep, slack=0):
        check_trim(resource_name, equal, keep, slack)
        with self._lock:
            siblings = self._get_siblings(resource_name, parent_id)
            if siblings is None:
                return []
            matching = [
                obj["id"]
                for obj in reversed(siblings.objects.values())
                if all(obj.get(name) == value for name, value in equal.items())
            ]
            if len(matching) <= keep + slack:
                return []
            doomed = matching[keep:]
            for object_id in doomed:
                self._remember(siblings, object_id)
                del siblings.objects[object_id]
            return doomed

    def delete_tree(self, *, parent_uri):
        prefix = parent_uri + "/"
        with self._lock:
            for key in list(self._siblings):
                parent_id = key[1]
                if parent_id == parent_uri or parent_id.startswith(prefix):
                    self._remember_siblings(key, self._siblings.pop(key))

    def _remember_siblings(self, key, siblings):
        def undo():
            with self._lock:
                self._siblings[key] = siblings

        self.client.record(undo)

    def purge_deleted(self, *, resource_name, parent_id, before=None):
        with self._lock:
            keys = [k for k in self._siblings if k[0] == resource_name]
            if parent_id is not None:
                keys = [k for k in keys if k[1] == parent_id]
            removed = 0
            for key in keys:
                tombstones = self._siblings[key].tombstones
                doomed = [i for i, t in tombstones.items() if before is None or t["last_modified"] < before]
                for object_id in doomed:
                    self._remember(self._siblings[key], object_id)
                    del tombstones[object_id]
                removed += len(doomed)
            return removed

    def _candidates(self, siblings, sorting, include_deleted, object_ids, window):
        """(objects to consider, whether they already come in ``sorting`` order).

        A few shared ids are looked up directly. Otherwise, when sorting by
        ``last_modified`` alone, objects come from the newest (or oldest) end,
        limited to the timestamp ``window`` of the filters, so that a page or
        a ``_since`` reads only what it returns.
        """
        if object_ids is not None and len(object_ids) * 4 < len(siblings.objects):
            found = [siblings.objects[i] for i in object_ids if i in siblings.objects]
            if include_deleted:
                found += [siblings.tombstones[i] for i in object_ids if i in siblings.tombstones]
            return found, False
        by_timestamp = len(sorting) == 1 and sorting[0].field == "last_modified"
        if not by_timestamp:
            live = list(siblings.objects.values())
            return (live + list(siblings.tombstones.values()) if include_deleted else live), False
        descending = sorting[0].descending
        sources = [siblings.objects] + ([siblings.tombstones] if include_deleted else [])
        streams = [_within(_by_last_modified(entries, descending), window, descending) for entries in sources]
        if len(streams) == 1:
            return streams[0], True
        return heapq.merge(*streams, key=lambda o: o["last_modified"], reverse=descending), True

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
        with self._lock:
            siblings = self._get_siblings(resource_name, parent_id)
            if siblings is None:
                return []
            window = _timestamp_window(filters)
            by_timestamp = len(sorting) == 1 and sorting[0].field == "last_modified"
            if after is not None and by_timestamp and isinstance(after.get("last_modified"), int):
                # Timestamps are unique: the next page starts right past this one.
                low, high = window
                stamp = after["last_modified"]
                window = (low, min(high, stamp)) if sorting[0].descending else (max(low, stamp), high)
            candidates, ordered = self._candidates(siblings, sorting, include_deleted, object_ids, window)
            wanted = predicate(filters)
            selected = (obj for obj in candidates if (object_ids is None or obj["id"] in object_ids) and wanted(obj))
            if not ordered:
                selected = iter(sorted(selected, key=lambda o: object_key(o, sorting)))
            if after is not None:
                after_key = object_key(after, sorting)
                selected = (obj for obj in selected if object_key(obj, sorting) > after_key)
            return [dict(obj) for obj in islice(selected, limit)]

    def list_with_timestamp(self, **kwargs):
        with self._lock:
            return super().list_with_timestamp(**kwargs)

    def count_with_timestamp(self, **kwargs):
        with self._lock:
            return super().count_with_timestamp(**kwargs)

    def count_all(self, *, resource_name, parent_id, filters=(), object_ids=None):
        with self._lock:
            siblings = self._get_siblings(resource_name, parent_id)
            if siblings is None:
                return 0
            if not filters and object_ids is None:
                return len(siblings.objects)
            wanted = predicate(filters)
            return sum(
                1
                for obj in siblings.objects.values()
                if (object_ids is None or obj["id"] in object_ids) and wanted(obj)
            )

    has_change_log = True

    def log_changes(self, changes):
        with self._lock:
            mark = self._last_cursor
            for action, resource_name, parent_id, obj in changes:
                self._last_cursor += 1
                change = Change((self._last_cursor,), action, resource_name, parent_id, obj)
                self._changes.append((now_ms(), change))

        def undo():
            # Write requests take turns (the journal's lock): these are the
            # last changes of the log.
            with self._lock:
                while self._changes and self._changes[-1][1].cursor[0] > mark:
                    self._changes.pop()
                self._last_cursor = mark

        self.client.record(undo)

    def changes_after(self, cursor, limit):
        # A write request in progress holds the journal's lock: reading with
        # it held sees only what was committed.
        with self.client.committed(), self._lock:
            end = (self._last_cursor,)
            if cursor is None:
                return ChangesPage([], end)
            if cursor[0] < self._oldest or cursor > end:
                return ChangesPage([], end, reset=True)
            # Cursors are consecutive: the first change after ``cursor`` is
            # at a known offset from the oldest one kept.
            first = self._changes[0][1].cursor[0] if self._changes else end[0] + 1
            start = max(0, cursor[0] + 1 - first)
            found = [change for _, change in islice(self._changes, start, start + limit)]
            return ChangesPage(found, found[-1].cursor if found else cursor)

    def purge_changes(self, before_ms):
        with self.client.committed(), self._lock:
            purged = 0
            while self._changes and self._changes[0][0] < before_ms:
                self._oldest = self._changes.popleft()[1].cursor[0]
                purged += 1
            return purged

    def import_objects(self, objects, timestamps=()):
        by_parent = {}
        for obj in objects:
            by_parent.setdefault((obj.resource_name, obj.parent_id), []).append(obj)
        with self._lock:
            for (resource_name, parent_id), imported in by_parent.items():
                siblings = self._get_siblings(resource_name, parent_id)
                taken_ids = set(siblings.objects) | set(siblings.tombstones) if siblings else set()
                taken_stamps = (
                    {o["last_modified"] for o in (*siblings.objects.values(), *siblings.tombstones.values())}
                    if siblings
                    else set()
                )
                for obj in imported:
                    if obj.id in taken_ids or obj.last_modified in taken_stamps:
                        raise ImportConflict(
                            f"{resource_name} {obj.id!r} of {parent_id!r} (last_modified {obj.last_modified}): "
                            "an object with its id, or its timestamp in that parent, is already stored"
                        )
                    taken_ids.add(obj.id)
                    taken_stamps.add(obj.last_modified)
            for key, imported in by_parent.items():
                self._import_siblings(key, imported)
            for resource_name, parent_id, last_modified in timestamps:
                siblings = self._get_siblings(resource_name, parent_id, create=True)
                siblings.timestamp = max(siblings.timestamp, last_modified)
        return sum(len(imported) for imported in by_parent.values())

    def _import_siblings(self, key, imported):
        siblings = self._get_siblings(*key, create=True)
        self._remember_siblings(key, _copy(siblings))
        for obj in imported:
            if obj.deleted:
                siblings.tombstones[obj.id] = {"id": obj.id, "last_modified": obj.last_modified, "deleted": True}
            else:
                siblings.objects[obj.id] = {**obj.data, "id": obj.id, "last_modified": obj.last_modified}
            siblings.timestamp = max(siblings.timestamp, obj.last_modified)
        _reorder(siblings)

    def flush(self):
        with self._lock:
            self._siblings.clear()
            self._changes.clear()
            self._oldest = self._last_cursor

    def heartbeat(self):
        return True
