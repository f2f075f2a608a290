"""Operations on plural endpoints: list (GET/HEAD) and delete (DELETE).

Whoever may read the parent sees every object; others see only the objects
shared with them (read or write on the object itself), provided something is
shared or they may create objects there; everyone else gets 401/403.
"""

import ujson

from kinto_server import events
from kinto_server.resources import caching, lifecycle, pagination, preconditions, querystring
from kinto_server.resources.access import forbidden
from kinto_server.resources.objects import Outcome, project_fields
from kinto_server.resources.target import Target
from kinto_server.resources.tree import CHILD_TYPES, RECORD, ObjectRef, parent_uri_of_list
from kinto_server.storage.evaluation import object_key

# Kinto's Alert header for lists asked with ``_to`` (still honoured, as ``_before``).
TO_DEPRECATED = ujson.dumps(
    {
        "code": "soft-eol",
        "message": "_to is now deprecated, you should use _before instead",
        "url": "https://kinto.readthedocs.io/en/2.4.0/api/resource.html#list-of-available-url-parameters",
    },
    escape_forward_slashes=False,
)


def _children_prefix(parent_ref, resource):
    parent_uri = parent_ref.uri if parent_ref is not None else ""
    return f"{parent_uri}/{resource.plural}/"


def shared_ids(request, parent_ref, resource, permissions):
    """Ids of the direct children on which the caller holds ``permissions``."""
    prefix = _children_prefix(parent_ref, resource)
    accessible = request.registry.permission.get_accessible_objects(
        principals=request.principals, permissions=permissions, uri_prefix=prefix
    )
    return {uri[len(prefix) :] for uri in accessible if "/" not in uri[len(prefix) :]}


def _visible_ids(request, target, resource, full_permission, shared_permissions):
    """None when every object is visible, else the set of visible ids."""
    parent_ref = target.ref
    if parent_ref is not None and target.allows(full_permission):
        return None
    ids = shared_ids(request, parent_ref, resource, shared_permissions)
    if not ids and not target.access.allows(parent_ref, resource.create_permission):
        raise forbidden(request)
    return ids


def page_size(settings, requested):
    """The page size: the request's ``_limit``, capped by the settings."""
    caps = [settings["storage_max_fetch_size"]]
    if settings["paginate_by"]:
        caps.append(settings["paginate_by"])
    return min([requested] + caps) if requested else min(caps)


def _readable_permissions(resource):
    """Permissions on an object that let its holder see it in a list: read,
    write, and (as Kinto's ``read:attributes``) creating children in it."""
    return ("read", "write") + tuple(child.create_permission for child in CHILD_TYPES.get(resource, ()))


def paged(request, query, fetch):
    """One page of what ``fetch(after=..., limit=...)`` lists, and its
    ``Next-Page`` header when there is more: the paging every plural endpoint
    shares (records, buckets..., accounts, permissions, plural DELETE)."""
    settings = request.registry.settings
    limit = page_size(settings, query.limit)
    after = pagination.decode(settings, query.token) if query.token else None
    objects = fetch(after=after, limit=limit + 1)
    headers = {}
    if len(objects) > limit:
        objects = objects[:limit]
        token = pagination.encode(settings, pagination.last_object_key(objects[-1], query.sorting))
        headers["Next-Page"] = pagination.next_page_url(request, token, limit)
    return objects, headers


def paged_computed(request, query, found):
    """One page of ``found``, objects computed rather than stored (a
    plugin's list, ``/permissions``), in the query's order."""
    found = sorted(found, key=lambda obj: object_key(obj, query.sorting))

    def fetch(after, limit):
        if after is None:
            return found[:limit]
        after_key = object_key(after, query.sorting)
        return [obj for obj in found if object_key(obj, query.sorting) > after_key][:limit]

    return paged(request, query, fetch)


def fetcher(call, resource_name, parent_id, query, object_ids, **extra):
    """A ``fetch`` for :func:`paged`: ``call`` (a storage listing) with the
    query's filters and sort, from ``after``, at most ``limit`` objects."""

    def fetch(after, limit):
        return call(
            resource_name=resource_name,
            parent_id=parent_id,
            filters=query.filters,
            sorting=query.sorting,
            after=after,
            limit=limit,
            object_ids=object_ids,
            **extra,
        )

    return fetch


def list_objects(request, parent_ref, resource, count=False):
    target = Target(request, parent_ref)
    object_ids = _visible_ids(request, target, resource, "read", _readable_permissions(resource))
    target.ensure_parents(include_self=True)
    parent_id = parent_uri_of_list(resource, parent_ref.ids if parent_ref is not None else ())
    outcome = list_page(request, resource.name, parent_id, object_ids, count=count)
    if resource is RECORD:
        outcome.headers.update(caching.record_headers(request, parent_ref, target.obj))
    return outcome


def list_page(request, resource_name, parent_id, object_ids, count=False):
    """The page a GET (or the count a HEAD) asks for, among ``object_ids``
    (None: all) of that parent, once access is checked: its ETag is read in
    the same statement as the objects (a change feed never skips a write)."""
    query = querystring.parse(request.GET, request.registry.settings)
    storage = request.registry.storage
    headers = {}
    if count:
        # HEAD: the count and the ETag, no list.
        total, timestamp = storage.count_with_timestamp(
            resource_name=resource_name, parent_id=parent_id, filters=query.filters, object_ids=object_ids
        )
        preconditions.check(request, timestamp)
        headers["Total-Objects"] = headers["Total-Records"] = str(total)
        return Outcome([], None, timestamp=timestamp, headers=headers)
    if "_to" in request.GET:
        headers["Alert"] = TO_DEPRECATED
    read = {}

    def list_keeping_timestamp(**arguments):
        objects, read["timestamp"] = storage.list_with_timestamp(**arguments)
        return objects

    fetch = fetcher(
        list_keeping_timestamp, resource_name, parent_id, query, object_ids, include_deleted=query.include_deleted
    )
    objects, page_headers = paged(request, query, fetch)
    timestamp = read["timestamp"]
    preconditions.check(request, timestamp)
    headers.update(page_headers)
    if query.fields:
        objects = [project_fields(obj, query.fields) for obj in objects]
    return Outcome(objects, None, timestamp=timestamp, headers=headers)


def delete_objects(request, parent_ref, resource):
    target = Target(request, parent_ref)
    object_ids = _visible_ids(request, target, resource, "write", ("write",))
    target.ensure_parents(include_self=True)
    parent_ids = parent_ref.ids if parent_ref is not None else ()

    def forget(tombstone):
        ref = ObjectRef(resource, parent_ids + (tombstone["id"],))
        lifecycle.after_delete(request.registry, ref)
        events.notify(request, "delete", ref, None, tombstone)

    return delete_page(request, resource.name, parent_uri_of_list(resource, parent_ids), object_ids, forget)


def delete_page(request, resource_name, parent_id, object_ids, forget):
    """Delete the page a GET with the same querystring would list (Kinto's
    rule: _limit, _sort, filters and _token pick what is deleted, and
    Next-Page leads to the rest), among ``object_ids`` (None: all), once
    access is checked; ``forget(tombstone)`` cleans up after each object."""
    query = querystring.parse(request.GET, request.registry.settings)
    storage = request.registry.storage
    timestamp = storage.resource_timestamp(resource_name=resource_name, parent_id=parent_id)
    preconditions.check(request, timestamp)
    page, headers = paged(request, query, fetcher(storage.list_all, resource_name, parent_id, query, object_ids))
    doomed = {obj["id"]: position for position, obj in enumerate(page)}
    # The filters again: an object changed since it was listed is left alone.
    tombstones = (
        storage.delete_all(
            resource_name=resource_name, parent_id=parent_id, filters=query.filters, object_ids=list(doomed)
        )
        if doomed
        else []
    )
    tombstones.sort(key=lambda tombstone: doomed[tombstone["id"]])  # In the page's order, as Kinto.
    for tombstone in tombstones:
        forget(tombstone)
    new_timestamp = max([t["last_modified"] for t in tombstones], default=timestamp)
    return Outcome(tombstones, None, timestamp=new_timestamp, headers=headers)
