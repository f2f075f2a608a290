"""The streams of one process, and what each of them receives.

One :class:`Hub` per process reads the storage's change log (woken by the
process's own commits, by PostgreSQL notifications, and by a poll for what
other processes wrote) and hands each batch of changes to every stream. A
batch comes with what delivering it needs, read once for all streams: the
ACEs of every object concerned and of its ancestors, and the principals of
the users whose group memberships the batch changed. Each stream then
filters it on its own, with no I/O: the changes under the resources it
subscribed to that its user may read *now*, and a ``revoked`` event for
each subscribed resource its user can no longer read.

A stream that resumes (``Last-Event-ID``) first reads the log from its
cursor, while the batches the hub delivers meanwhile wait in its buffer;
once its reading has passed the point where it started buffering, it
takes the buffered batches (skipping what it already sent) and goes on
live. Everything a stream sends follows the log, so its cursor is exact:
a client that reconnects with the last id it received gets exactly what it
missed.
"""

import asyncio
import contextlib
import logging
import time

import ujson

from kinto_server.resources.access import Access
from kinto_server.resources.tree import GROUP, RESOURCE_TYPES, ref_from_uri

logger = logging.getLogger(__name__)

PAGE = 500
COALESCE_SECONDS = 0.002


def cursor_text(cursor):
    return ".".join(str(part) for part in cursor)


def dumps(value):
    return ujson.dumps(value, escape_forward_slashes=False)


def message(event, data, cursor=None):
    """One Server-Sent Event, as bytes."""
    head = f"id: {cursor_text(cursor)}\n" if cursor is not None else ""
    return f"{head}event: {event}\ndata: {dumps(data)}\n\n".encode()


def change_ref(change):
    plural = RESOURCE_TYPES[change.resource_name].plural
    return ref_from_uri(f"{change.parent_id}/{plural}/{change.obj['id']}")


def change_payload(change, ref):
    """The ``data`` of a change event: Kinto's event payload (without the
    writer's user id) and the object, or its tombstone."""
    payload = {
        "action": change.action,
        "uri": ref.uri,
        "resource_name": change.resource_name,
        "id": ref.object_id,
        "timestamp": change.obj["last_modified"],
    }
    for lineage_ref in ref.lineage():
        payload[f"{lineage_ref.resource.name}_id"] = lineage_ref.object_id
    payload["data"] = change.obj
    return payload


def is_within(uri, scope):
    return uri == scope or uri.startswith(scope + "/")


class Batch:
    """Changes read from the log, up to ``cursor``, with what filtering them
    needs: ``acls`` (uri -> ACEs) and ``principals`` (base principals ->
    the principals now, for the users whose memberships changed)."""

    def __init__(self, changes, cursor):
        self.items = [(change, change_ref(change)) for change in changes]
        self.cursor = cursor
        self.acls = {}
        self.principals = {}
        self.groups = [(ref, change) for change, ref in self.items if change.resource_name == GROUP.name]
        self._changed = {ref.uri for _, ref in self.items}
        self._messages = {}
        self._readers = {}
        self._access_changes = {}

    def readers(self, index):
        """Who may read the ``index``-th change's object: the holders of
        ``read`` or ``write`` on it or on an ancestor (the rule of
        :func:`kinto_server.resources.access.granting`), for every stream."""
        found = self._readers.get(index)
        if found is None:
            holders = set()
            for ref in self.items[index][1].lineage():
                aces = self.acls.get(ref.uri, {})
                holders.update(aces.get("read", ()), aces.get("write", ()))
            found = self._readers[index] = frozenset(holders)
        return found

    def message(self, index):
        """The event of the ``index``-th change: the same bytes for every stream."""
        found = self._messages.get(index)
        if found is None:
            change, ref = self.items[index]
            found = self._messages[index] = message("change", change_payload(change, ref), change.cursor)
        return found

    def may_change_access(self, resource):
        """Whether the batch changes ``resource`` or one of its ancestors
        (their ACEs); group memberships are the principals' business."""
        found = self._access_changes.get(resource.uri)
        if found is None:
            found = self._access_changes[resource.uri] = any(ref.uri in self._changed for ref in resource.lineage())
        return found


class Stream:
    """One client's subscription, and the connection its events go to."""

    def __init__(self, grant, cursor, send):
        self.user_id = grant["user_id"]
        self.base = tuple(grant["base_principals"])
        self.principals = frozenset(grant["principals"])
        self.resources = [ref_from_uri(uri) for uri in grant["resources"]]
        self.cursor = cursor
        self.sent_cursor = cursor
        self._send = send
        self.buffer = []  # batches delivered while it reads the log (None once live)
        self.closed = asyncio.Event()

    def send(self, data):
        if not self.closed.is_set():
            self._send(data)

    def close(self):
        self.closed.set()

    def affected_by_groups(self, batch):
        """Whether the batch's group changes may change this user's groups."""
        for ref, change in batch.groups:
            members = change.obj.get("members") or ()
            if ref.uri in self.principals or not self.principals.isdisjoint(members):
                return True
        return False

    def _scope(self, ref, action):
        """The subscribed resource a change concerns, and whether the change
        deletes it (or an ancestor of it); None when it concerns none."""
        for resource in self.resources:
            if is_within(ref.uri, resource.uri):
                return resource, action == "delete" and ref.uri == resource.uri
            if action == "delete" and is_within(resource.uri, ref.uri):
                return resource, True
        return None, False

    def offer(self, batch):
        """Send what this stream's user may receive of ``batch``."""
        if self.buffer is not None:
            self.buffer.append(batch)
            return
        self._deliver(batch)

    def go_live(self):
        buffered, self.buffer = self.buffer or [], None
        for batch in buffered:
            self._deliver(batch)

    def _deliver(self, batch):
        if batch.cursor <= self.cursor:
            return
        if self.base in batch.principals:
            self.principals = batch.principals[self.base]
        out = []
        for index, (change, ref) in enumerate(batch.items):
            if change.cursor <= self.cursor:
                continue
            resource, deletes_it = self._scope(ref, change.action)
            if resource is None:
                continue
            # Its own deletion reaches the stream that was reading it, even
            # if nobody may read the object once it is gone.
            if deletes_it or not self.principals.isdisjoint(batch.readers(index)):
                out.append(batch.message(index))
                self.sent_cursor = change.cursor
        to_check = self._to_check(batch)
        access = Access(self.principals, batch.acls, {}) if to_check else None
        for resource in to_check:
            if not access.allows(resource, "read"):
                self.resources.remove(resource)
                out.append(message("revoked", {"resource": resource.uri}, batch.cursor))
                self.sent_cursor = batch.cursor
        self.cursor = batch.cursor
        if out:
            self.send(b"".join(out))
        if not self.resources:
            self.close()  # Nothing left to read: the client will hear 403 if it comes back.

    def _to_check(self, batch):
        """The subscribed resources whose access the batch may have changed."""
        refreshed = self.base in batch.principals
        return [resource for resource in self.resources if refreshed or batch.may_change_access(resource)]

    def recheck(self, grant):
        """What the API answered again for this stream's credentials: the
        principals they have now, the resources they may still read; each
        other resource is revoked."""
        if "principals" in grant:
            self.user_id, self.base = grant["user_id"], tuple(grant["base_principals"])
            self.principals = frozenset(grant["principals"])
        still = set(grant["resources"])
        out = []
        for resource in list(self.resources):
            if resource.uri not in still:
                self.resources.remove(resource)
                out.append(message("revoked", {"resource": resource.uri}, self.cursor))
                self.sent_cursor = self.cursor
        if out:
            self.send(b"".join(out))
        if not self.resources:
            self.close()

    def heartbeat(self):
        """A comment, with the cursor when filtered-out changes moved it on,
        so that a client resumes from there."""
        if self.cursor != self.sent_cursor:
            self.sent_cursor = self.cursor
            self.send(f": heartbeat\nid: {cursor_text(self.cursor)}\n\n".encode())
        else:
            self.send(b": heartbeat\n\n")


class Hub:
    """Reads the change log for the streams of this process."""

    def __init__(self, registry, loop, executor, poll_seconds):
        self.registry = registry
        self.storage = registry.storage
        self.loop = loop
        self.executor = executor
        self.poll_seconds = poll_seconds
        self.streams = set()
        self.cursor = None
        self._wake = asyncio.Event()
        self._started = asyncio.Event()
        self._pending_wake = False

    def call(self, function, *args):
        return self.loop.run_in_executor(self.executor, function, *args)

    # Wake-ups: from any thread.

    def wake_threadsafe(self):
        if self.streams and not self._pending_wake:  # Nobody listening: the poll will do.
            self._pending_wake = True
            self.loop.call_soon_threadsafe(self.wake_now)

    def wake_now(self):
        self._pending_wake = False
        self._wake.set()

    async def run(self):
        while self.cursor is None:
            try:
                self.cursor = (await self.call(self.storage.changes_after, None, 1)).cursor
            except Exception:
                logger.exception("The change stream cannot read the change log; trying again")
                await asyncio.sleep(1)
        self._started.set()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            if not self.streams:
                # Nobody to tell: no reading (a stream that joins reads the
                # log itself, from its own cursor, up to where the hub is).
                self._wake.clear()
                continue
            # Commits come in bursts: one read for those of the next moments.
            await asyncio.sleep(COALESCE_SECONDS)
            self._wake.clear()
            try:
                await self.read_new()
            except RuntimeError:
                return  # The interpreter exits: its executors take no more work.
            except Exception:
                logger.exception("The change stream could not read the change log")
                await asyncio.sleep(1)

    async def read_new(self):
        while True:
            page = await self.call(self.storage.changes_after, self.cursor, PAGE)
            if page.reset:
                lowest = min((stream.cursor for stream in self.streams), default=None)
                if lowest is not None and lowest > self.cursor:
                    self.cursor = lowest  # It was behind its streams (idle): on from theirs.
                    continue
                # The log was flushed: every stream must resync.
                self.cursor = page.cursor
                for stream in list(self.streams):
                    stream.send(reset_message(page.cursor))
                    stream.cursor = stream.sent_cursor = max(stream.cursor, page.cursor)
                return
            streams = list(self.streams)
            previous, self.cursor = self.cursor, page.cursor
            if page.changes and streams:
                batch = await self.prepare(page.changes, page.cursor, streams)
                for stream in streams:
                    stream.offer(batch)
            elif page.cursor != previous:
                for stream in streams:
                    stream.offer(Batch([], page.cursor))
            if len(page.changes) < PAGE:
                return

    async def prepare(self, changes, cursor, streams):
        batch = Batch(changes, cursor)
        uris = set()
        for _, ref in batch.items:
            uris.update(r.uri for r in ref.lineage())
        bases = set()
        for stream in streams:
            refreshed = batch.groups and stream.affected_by_groups(batch)
            if refreshed:
                bases.add(stream.base)
            for resource in stream.resources:
                if refreshed or batch.may_change_access(resource):
                    uris.update(r.uri for r in resource.lineage())
        batch.acls, batch.principals = await self.call(self._read_access, sorted(uris), sorted(bases))
        return batch

    def _read_access(self, uris, bases):
        permission = self.registry.permission
        _, acls = permission.get_principals_and_permissions(user_ids=[], object_uris=uris)
        principals = {base: frozenset(base) | permission.get_user_principals(user_ids=list(base)) for base in bases}
        return dict(zip(uris, acls, strict=True)), principals

    async def join(self, stream, cursor):
        """Start ``stream`` after ``cursor``: read the log from there up to
        where the hub is, then take the hub's batches. If that fails, the
        stream ends (its client resumes from its cursor)."""
        try:
            await self._join(stream, cursor)
        except Exception:
            logger.exception("A change stream could not catch up with the change log")
            stream.close()

    async def _join(self, stream, cursor):
        await self._started.wait()
        if not self.streams:
            # It may have skipped reading (no streams): catch up with the
            # log's end before anyone relies on its cursor.
            end = (await self.call(self.storage.changes_after, None, 1)).cursor
            self.cursor = max(self.cursor, end)
        target = self.cursor
        self.streams.add(stream)  # Batches delivered from now on wait in its buffer.
        while True:
            page = await self.call(self.storage.changes_after, cursor, PAGE)
            if page.reset:
                stream.send(reset_message(page.cursor))
                stream.sent_cursor = page.cursor
            elif page.changes:
                batch = await self.prepare(page.changes, page.cursor, [stream])
                stream.cursor = cursor
                stream._deliver(batch)
            cursor = page.cursor
            stream.cursor = max(stream.cursor, cursor)
            if stream.closed.is_set() or (cursor >= target and len(page.changes) < PAGE):
                break
        stream.go_live()

    def leave(self, stream):
        self.streams.discard(stream)

    async def purge_forever(self, retention_seconds, every_seconds=600):
        while True:
            before = int((time.time() - retention_seconds) * 1000)
            try:
                await self.call(self.storage.purge_changes, before)
            except Exception:
                logger.exception("Could not purge the change log")
            await asyncio.sleep(every_seconds)


def reset_message(cursor):
    return message("reset", {"cursor": cursor_text(cursor)}, cursor)
