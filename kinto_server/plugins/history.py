"""The history plugin: every change in a bucket is recorded, in the same
transaction, as an entry of ``/v1/buckets/<id>/history`` (action, uri,
resource name and ids, user, date, and the object's data and permissions).

Whoever may read the bucket reads its whole history; others read the entries
of the objects they could read when the change happened. Deleting a bucket
deletes its history; bucket writers may also purge it (DELETE, which
leaves tombstones as any plural DELETE).

Settings, as Kinto's: ``history.exclude_resources`` (bucket, collection or
object URIs whose changes are not recorded, their children's neither),
``history.exclude_user_ids``, and the trim: with
``history.auto_trim_max_count`` set, a bucket keeps that many entries per
resource name (per resource name and user, for the users of
``history.auto_trim_user_ids`` only, when given), the older ones being
removed once ``history.auto_trim_threshold`` more have accumulated. The trim
reads only the entries it keeps (``Storage.trim_objects``), so it costs the
same on a history of a million entries as on a new one.

``/v1/buckets/<bid>/snapshot/collections/<cid>@<timestamp>`` rebuilds a
collection's records as they were at a timestamp, from the records and the
history (records whose history was trimmed or excluded are missing from
snapshots older than their last change, as in Kinto).
"""

import datetime
import logging
import uuid

from cornice import Service

from kinto_server.errors import ERRORS, NO_MESSAGE, cornice_errors_to_response, http_error, invalid_parameters
from kinto_server.events import ResourceChanged
from kinto_server.metrics import timed_listener
from kinto_server.resources import lists
from kinto_server.resources.target import Target, ref_from_matchdict
from kinto_server.resources.tree import (
    BUCKET,
    COLLECTION,
    ID_PATTERN,
    RECORD,
    ObjectRef,
    ResourceType,
    is_valid_id,
    ref_from_uri,
)
from kinto_server.settings import ConfigurationError
from kinto_server.storage import Filter, Operator, Sort
from kinto_server.views.rendering import BASE_EXPOSED, exposes, json_response, render

logger = logging.getLogger(__name__)

HISTORY = ResourceType("history", "history", BUCKET, ("read",), lambda: str(uuid.uuid4()))

history = Service(name="history", path="/buckets/{bucket_id}/history", error_handler=cornice_errors_to_response)
history.path_patterns = {"bucket_id": ID_PATTERN.pattern}  # Read by the OpenAPI description.
exposes(history, listing=True)


def _readers(registry, ref):
    """Principals that may read ``ref`` now: read or write on it or above."""
    uris = [r.uri for r in ref.lineage()]
    readers = set()
    for acl in registry.permission.get_objects_permissions(object_uris=uris):
        readers |= acl.get("read", set()) | acl.get("write", set())
    return readers


def _excluded(settings, ref, user_id):
    if user_id in settings["history.exclude_user_ids"]:
        return True
    excluded = settings["history.exclude_resources"]
    return any(r.uri in excluded for r in ref.lineage())


def record_change(event):
    payload = event.payload
    registry = event.request.registry
    if payload["resource_name"] not in ("bucket", "collection", "group", "record"):
        return
    if payload["resource_name"] == "bucket" and payload["action"] == "delete":
        return  # The bucket's history goes with it.
    ref = ref_from_uri(payload["uri"])
    if _excluded(registry.settings, ref, payload["user_id"]):
        return
    impacted = event.impacted_objects[0]
    permissions = impacted.get("permissions") or {}
    entry = {
        "id": HISTORY.generate_id(),
        "action": payload["action"],
        "uri": payload["uri"],
        "user_id": payload["user_id"],
        "resource_name": payload["resource_name"],
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "target": {
            "data": impacted["new"],
            "permissions": {perm: sorted(p) for perm, p in permissions.items()},
        },
    }
    for lineage_ref in ref.lineage()[1:] if ref.resource is not BUCKET else ref.lineage():
        entry[f"{lineage_ref.resource.name}_id"] = lineage_ref.object_id
    bucket = ref.lineage()[0]
    registry.storage.create(resource_name=HISTORY.name, parent_id=bucket.uri, obj=entry)
    entry_ref = ObjectRef(HISTORY, (bucket.object_id, entry["id"]))
    readers = _readers(registry, ref)
    if readers:
        registry.permission.replace_object_permissions(object_uri=entry_ref.uri, permissions={"read": readers})
    _trim(registry, bucket, entry)


def _trim(registry, bucket, entry):
    settings = registry.settings
    keep = settings["history.auto_trim_max_count"]
    users = settings["history.auto_trim_user_ids"]
    if keep <= 0 or (users and entry["user_id"] not in users):
        return
    equal = {"resource_name": entry["resource_name"]}
    if users:
        equal["user_id"] = entry["user_id"]
    removed = registry.storage.trim_objects(
        resource_name=HISTORY.name,
        parent_id=bucket.uri,
        equal=equal,
        keep=keep,
        slack=max(settings["history.auto_trim_threshold"], 0),
    )
    for entry_id in removed:
        entry_uri = ObjectRef(HISTORY, (bucket.object_id, entry_id)).uri
        registry.permission.delete_object_permissions(object_uri=entry_uri, with_children=False)
    if removed:
        logger.info("Trimmed %d old history entries of %s.", len(removed), bucket.uri)


def _bucket(request):
    return ref_from_matchdict(request, HISTORY, request.matchdict, include_self=False)


@history.get()
def get_history(request):
    is_head = request.method == "HEAD"
    outcome = lists.list_objects(request, _bucket(request), HISTORY, count=is_head)
    return render(request, outcome)


@history.delete()
def delete_history(request):
    # Tombstones stay, as for any plural DELETE: a client that mirrors the
    # history through ``_since`` learns which entries went.
    outcome = lists.delete_objects(request, _bucket(request), HISTORY)
    return render(request, outcome)


snapshot = Service(
    name="history_snapshot",
    path="/buckets/{bucket_id}/snapshot/collections/{collection_id}@{timestamp}",
    description="A collection's records as they were at a timestamp",
    error_handler=cornice_errors_to_response,
)
snapshot.path_patterns = {"bucket_id": ID_PATTERN.pattern, "collection_id": ID_PATTERN.pattern, "timestamp": "^[0-9]+$"}
snapshot.exposed = {"GET": BASE_EXPOSED, "HEAD": BASE_EXPOSED}  # As Kinto: no ETag, no cache headers.


def _snapshot_timestamp(request):
    text = request.matchdict["timestamp"]
    if not (text.isascii() and text.isdigit()):
        raise invalid_parameters("path", "timestamp", f"Invalid timestamp {text!r}")
    return int(text)


def records_at(storage, bucket_uri, collection_ref, timestamp):
    """The collection's live records as of ``timestamp``, newest first: the
    records unchanged since then, and for the others their newest version
    in the history up to then (none if it was deleted, or created later)."""
    records = storage.list_all(resource_name=RECORD.name, parent_id=collection_ref.uri, include_deleted=True)
    result = [r for r in records if r["last_modified"] <= timestamp and not r.get("deleted")]
    changed = [r["id"] for r in records if r["last_modified"] > timestamp]
    if changed:
        entries = storage.list_all(
            resource_name=HISTORY.name,
            parent_id=bucket_uri,
            filters=[
                Filter("resource_name", "record"),
                Filter("collection_id", collection_ref.object_id),
                Filter("record_id", changed, Operator.IN),
                Filter("target.data.last_modified", timestamp, Operator.MAX),
            ],
            sorting=(Sort("last_modified", descending=True),),
        )
        versions = {}
        for entry in entries:
            versions.setdefault(entry["record_id"], entry["target"]["data"])
        result.extend(v for v in versions.values() if not v.get("deleted"))
    return sorted(result, key=lambda r: r["last_modified"], reverse=True)


@snapshot.get()
def get_snapshot(request):
    timestamp = _snapshot_timestamp(request)
    max_length = request.registry.settings["max_id_length"]
    for resource in (BUCKET, COLLECTION):
        object_id = request.matchdict[f"{resource.name}_id"]
        if not is_valid_id(object_id) or len(object_id) > max_length:
            # Kinto's answer here (elsewhere an invalid id is a 400).
            details = {"id": object_id, "resource_name": resource.name}
            raise http_error(404, ERRORS.MISSING_RESOURCE, NO_MESSAGE, details)
    ref = ref_from_matchdict(request, COLLECTION, request.matchdict)
    # Kinto's rule: read or write on the bucket or on the collection (a
    # missing collection of a readable bucket is empty).
    Target(request, ref).require("read")
    data = records_at(request.registry.storage, ref.lineage()[0].uri, ref, timestamp)
    return json_response({"data": data})


def _excluded_resource(uri):
    """Kinto's capability spelling of an excluded URI: its ids by name."""
    ref = ref_from_uri(uri)
    if ref is None:
        raise ConfigurationError(
            f"history.exclude_resources: {uri!r} is not the URI of a bucket, collection, group or record"
            " (such as /buckets/b or /buckets/b/collections/c)"
        )
    return {r.resource.name: r.object_id for r in ref.lineage()}


def includeme(config):
    config.add_subscriber(timed_listener(config.registry, "plugins.history", record_change), ResourceChanged)
    config.add_cornice_service(history)
    config.add_cornice_service(snapshot)
    settings = config.registry.settings
    capability = {
        "description": "Track changes on data.",
        "url": "http://kinto.readthedocs.io/en/latest/api/1.x/history.html",
    }
    if settings["history.auto_trim_max_count"] > 0:
        capability["auto_trim_max_count"] = settings["history.auto_trim_max_count"]
    if settings["history.auto_trim_user_ids"]:
        capability["auto_trim_user_ids"] = settings["history.auto_trim_user_ids"]
    if settings["history.exclude_resources"]:
        capability["excluded_resources"] = [_excluded_resource(u) for u in settings["history.exclude_resources"]]
    config.registry.capabilities["history"] = capability
