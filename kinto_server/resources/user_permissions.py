"""``GET /v1/permissions``: every object on which the caller holds a
permission through an ACE of its own, with all the permissions they hold
there (inherited ones included), plus the root's (``bucket:create``...).

The list is computed, not stored: its ``ETag`` and ``Last-Modified`` are the
time of the answer (Kinto sends a timestamp too), and ``If-None-Match`` is
not honoured, so a client never keeps a stale list on a 304."""

import time

from kinto_server.resources import querystring
from kinto_server.resources.access import Access
from kinto_server.resources.lists import paged_computed
from kinto_server.resources.objects import Outcome
from kinto_server.resources.tree import BUCKET, COLLECTION, ref_from_uri
from kinto_server.storage.evaluation import predicate

ALL_PERMISSIONS = ("read", "write", "collection:create", "group:create", "record:create")


def _held(access, ref):
    candidates = list(ref.resource.permissions)
    if ref.resource in (BUCKET, COLLECTION):
        candidates.append("read:attributes")
    return sorted(p for p in candidates if access.allows(ref, p))


def _entry(ref, permissions):
    entry = {"uri": ref.uri, "resource_name": ref.resource.name, "permissions": permissions, "id": ref.object_id}
    for lineage_ref in ref.lineage():
        entry[f"{lineage_ref.resource.name}_id"] = lineage_ref.object_id
    return entry


def entries(request):
    principals = request.principals
    backend = request.registry.permission
    accessible = backend.get_accessible_objects(principals=principals, permissions=ALL_PERMISSIONS, uri_prefix="/")
    refs = [ref for ref in map(ref_from_uri, accessible) if ref is not None]
    extra = [
        entry
        for uri, held in accessible.items()
        for make_entry in request.registry.permission_entries_extra
        if (entry := make_entry(uri, held)) is not None
    ]
    uris = sorted({r.uri for ref in refs for r in ref.lineage()})
    acls = dict(zip(uris, backend.get_objects_permissions(object_uris=uris), strict=True))
    root = Access.root_permissions(request)
    access = Access(principals, acls, root)
    found = [_entry(ref, _held(access, ref)) for ref in refs] + extra
    root_held = sorted(p for p in root if access.allows(None, p))
    if root_held:
        found.append({"uri": "/", "resource_name": "root", "permissions": root_held, "id": ""})
    return found


def list_user_permissions(request, count=False):
    query = querystring.parse(request.GET, request.registry.settings)
    wanted = predicate(query.filters)
    found = [e for e in entries(request) if wanted(e)]
    now = int(time.time() * 1000)
    if count:
        total = str(len(found))
        return Outcome([], None, timestamp=now, headers={"Total-Objects": total, "Total-Records": total})
    found, headers = paged_computed(request, query, found)
    for entry in found:
        if entry["resource_name"] == "root":
            del entry["id"]
    return Outcome(found, None, timestamp=now, headers=headers)
