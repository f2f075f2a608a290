"""Attaching a file to a record, removing it, reading it back.

Who may: attaching needs ``write`` on the record, or ``record:create`` in
its collection when it does not exist yet (it is then created); removing
needs ``write``; reading needs the record's ``read``. Permissions are
checked before the body is read.

What is written: the file goes to the store first, under a new key; then
the record is patched (or created) through the same operations as any
write, in the request's transaction: history entries, the change stream and
events all see the ``attachment`` field. Only once that transaction commits
is a replaced file removed; if it does not commit, the new file is removed
instead. A failed upload leaves neither a file nor a change.
"""

import contextlib
import os

from kinto_server.events import after_commit
from kinto_server.plugins.attachments import links, upload
from kinto_server.resources import objects
from kinto_server.resources.target import Target

UPLOADED = "kinto_server.attachments.uploaded"  # environ: keys written by this request, until committed


def _require_writer(request, target):
    """As a PUT of the record: ``write`` on it, or ``record:create`` to create it."""
    if target.obj is not None:
        target.require("write")
    else:
        objects.require_create(request, target)
    target.ensure_parents()


def _forget_if_not_committed(request, store, key):
    """``key`` is removed at the end of the request unless its transaction committed."""
    uploaded = request.environ.get(UPLOADED)
    if uploaded is None:
        uploaded = request.environ[UPLOADED] = set()

        def cleanup(request):
            for leftover in uploaded:
                store.delete(leftover)

        request.add_finished_callback(cleanup)
    uploaded.add(key)
    after_commit(request, lambda: uploaded.discard(key))


def release(request, plugin, ref, rules):
    """Forget the files of ``ref`` (a record, or what a collection or bucket
    holds): their links now, the files themselves once the change is
    committed (unless ``keep_old_files``)."""
    storage = request.registry.storage
    found = links.under(storage, ref)
    links.remove(storage, found)
    keys = [link["location"] for link in found]
    if keys and not rules.keep_old_files:
        store = plugin.store
        after_commit(request, lambda: [store.delete(key) for key in keys])


def attach(request, ref, plugin):
    target = Target(request, ref)
    _require_writer(request, target)
    rules = plugin.settings.for_collection(*ref.ids[:2])
    received = upload.read(request, rules, plugin.store)
    folder = rules.folder.format(bucket_id=ref.ids[0], collection_id=ref.ids[1], id=ref.ids[2])
    key = links.new_key(folder, received.extension)
    try:
        plugin.store.save(key, received.path, mimetype=received.mimetype)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(received.path)
    _forget_if_not_committed(request, plugin.store, key)
    release(request, plugin, ref, rules)
    links.add(request.registry.storage, key, ref)
    metadata = received.metadata(key)
    body = {"data": {**received.data, "attachment": metadata}}
    if received.permissions is not None:
        body["permissions"] = received.permissions
    request.environ[plugin.OWN_WRITE] = True
    if target.obj is None:
        outcome = objects.put_object(request, ref, body)
    else:
        outcome = objects.patch_object(request, ref, body)
    return metadata, outcome.status


def detach(request, ref, plugin):
    target = Target(request, ref)
    objects.require_write_or_404(request, target)
    target.ensure_parents()
    target.ensure_object()
    release(request, plugin, ref, plugin.settings.for_collection(*ref.ids[:2]))
    request.environ[plugin.OWN_WRITE] = True
    objects.patch_object(request, ref, {"data": {"attachment": None}})


def readable_attachment(request, ref):
    """The record's attachment metadata, once its ``read`` is checked (404s as a record read's)."""
    target = Target(request, ref)
    target.require("read")
    target.ensure_parents()
    record = target.ensure_object()
    return record.get("attachment")
