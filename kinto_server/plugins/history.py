"""The history plugin: every change in a bucket is recorded, in the same
transaction, as an entry of ``/v1/buckets/<id>/history`` (action, uri,
resource name and ids, user, date, and the object's data and permissions).

Whoever may read the bucket reads its whole history; others read the entries
of the objects they could read when the change happened. Deleting a bucket
deletes its history; bucket writers may also purge it (DELETE, which
leaves tombstones as any plural DELETE).
"""

import datetime
import uuid

from cornice import Service

from kinto_server.errors import cornice_errors_to_response
from kinto_server.events import ResourceChanged
from kinto_server.resources import lists
from kinto_server.resources.target import ref_from_matchdict
from kinto_server.resources.tree import BUCKET, ID_PATTERN, ObjectRef, ResourceType, ref_from_uri
from kinto_server.views.rendering import exposes, render

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


def record_change(event):
    payload = event.payload
    registry = event.request.registry
    excluded = registry.settings["history.exclude_resources"]
    if (
        payload["resource_name"] not in ("bucket", "collection", "group", "record")
        or payload["resource_name"] in excluded
    ):
        return
    if payload["resource_name"] == "bucket" and payload["action"] == "delete":
        return  # The bucket's history goes with it.
    ref = ref_from_uri(payload["uri"])
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


def includeme(config):
    config.add_subscriber(record_change, ResourceChanged)
    config.add_cornice_service(history)
    config.registry.capabilities["history"] = {
        "description": "Track changes on data.",
        "url": "http://kinto.readthedocs.io/en/latest/api/1.x/history.html",
    }
