"""Operations on one object: read, create, replace, patch, delete.

Each operation checks, in this order: the caller's permission (401/403,
revealing nothing about existence), the parents' existence (404 errno 111),
the object's existence (404 errno 110), then the conditional headers (412),
before it writes.
"""

from dataclasses import dataclass, field

from kinto_server import events
from kinto_server.errors import ERRORS, http_error, invalid_object_id
from kinto_server.resources import (
    acl,
    caching,
    invariants,
    lifecycle,
    patching,
    preconditions,
    querystring,
    validation,
)
from kinto_server.resources.access import forbidden
from kinto_server.resources.target import Target, not_found
from kinto_server.resources.tree import BUCKET, COLLECTION, RECORD, ObjectRef, is_valid_id
from kinto_server.storage import ObjectExistsError


@dataclass
class Outcome:
    """What an operation answers: the body parts, status and timestamp."""

    data: object
    permissions: dict | None = None
    status: int = 200
    timestamp: int | None = None
    headers: dict = field(default_factory=dict)


def read_permission(ref):
    """Buckets and collections may be read by those who may create in them."""
    return "read:attributes" if ref.resource in (BUCKET, COLLECTION) else "read"


def _save(request, target, data, sent_permissions, replace_permissions, create, on_exists="return"):
    """Store ``data`` and the merged ACEs; return the Outcome of the write.

    When ``create`` finds the object already there (a concurrent request
    created it), ``on_exists`` says what to do: ``return`` it (POST),
    ``refuse`` with 412 (conditional PUT) or ``replace`` it (PUT)."""
    registry = request.registry
    ref, old = target.ref, target.obj
    storage = registry.storage
    # Whatever the write, default fields are there (a JSON Patch may remove members).
    data = ref.resource.with_defaults(dict(data))
    invariants.check(ref.resource, data, sent_permissions)
    data = validation.validated(request, target, data)
    existing_acl = target.access.acl(ref.uri)
    changes = acl.merged_permissions(
        ref.resource, sent_permissions, existing_acl, replace_permissions, request.authenticated_userid
    )
    permissions = acl.stored_after(existing_acl, changes)
    # An owner's edit usually changes no ACE: no write then.
    acl_pending = permissions != existing_acl
    new = None
    if create:
        try:
            if acl_pending:  # The object and its ACEs together (one round trip where possible).
                new = registry.combined.create(
                    resource_name=ref.resource.name,
                    parent_id=ref.parent_uri,
                    obj=data,
                    object_uri=ref.uri,
                    permissions=changes,
                )
                acl_pending = False
            else:
                new = storage.create(resource_name=ref.resource.name, parent_id=ref.parent_uri, obj=data)
        except ObjectExistsError as exists:
            existing = exists.existing
            # Created meanwhile by someone else: its own ACEs were not loaded,
            # so only an inherited read permission shows it.
            readable = target.allows(read_permission(ref))
            if on_exists == "refuse":
                if not readable:
                    raise preconditions.modified_meanwhile() from None
                raise preconditions.modified_meanwhile(existing["last_modified"], existing) from None
            if on_exists == "return":
                if not readable:
                    raise forbidden(request) from None
                return Outcome(existing, {}, status=200, timestamp=existing["last_modified"])
            if not target.allows("write"):
                raise forbidden(request) from None  # Replacing it needs write, as it would a moment later.
            old = existing
    if new is None:
        new = storage.update(
            resource_name=ref.resource.name, parent_id=ref.parent_uri, object_id=ref.object_id, obj=data
        )
    if acl_pending:
        registry.permission.replace_object_permissions(object_uri=ref.uri, permissions=changes)
    lifecycle.after_save(registry, ref, old, new)
    events.notify(request, "create" if old is None else "update", ref, old, new, permissions)
    status = 201 if old is None else 200
    return Outcome(new, acl.shown(permissions, request.principals), status=status, timestamp=new["last_modified"])


def project_fields(obj, fields):
    """Keep only ``fields`` (dotted for nested ones), plus id and last_modified.
    As Kinto: where a dotted name meets a value that is not an object, that
    whole value is kept (``author.name`` of ``"author": "ann"`` is ``"ann"``)."""
    projected = {"id": obj["id"], "last_modified": obj["last_modified"]}
    if obj.get("deleted"):
        projected["deleted"] = True
    for name in fields:
        source, target = obj, projected
        parts = name.split(".")
        for depth, part in enumerate(parts):
            if part not in source:
                break
            value = source[part]
            if depth == len(parts) - 1 or not isinstance(value, dict):
                target[part] = value
                break
            source, target = value, target.setdefault(part, {})
    return projected


def get_object(request, ref):
    target = Target(request, ref)
    target.require(read_permission(ref))
    target.ensure_parents()
    obj = target.ensure_object()
    preconditions.check(request, obj["last_modified"], existing=obj)
    headers = caching.record_headers(request, ref.parent, target.stored(ref.parent)) if ref.resource is RECORD else {}
    fields = request.GET.get("_fields")
    if fields is not None:
        # As Kinto: only those fields (with id and last_modified), no permissions.
        projected = project_fields(obj, querystring.parse_fields(fields))
        return Outcome(projected, None, timestamp=obj["last_modified"], headers=headers)
    permissions = acl.shown(target.access.acl(ref.uri), request.principals)
    return Outcome(obj, permissions, timestamp=obj["last_modified"], headers=headers)


def _body_id(ref, data):
    sent_id = data.get("id", ref.object_id)
    if sent_id != ref.object_id:
        message = "Object id does not match existing object"
        raise http_error(
            400, ERRORS.INVALID_PARAMETERS, message, [{"location": "body", "name": "id", "description": message}]
        )


def put_object(request, ref, body):
    target = Target(request, ref)
    exists = target.obj is not None
    creating = not exists or request.environ.get("HTTP_IF_NONE_MATCH", "").strip() == "*"
    if creating:
        require_create(request, target)
    else:
        target.require("write")
    target.ensure_parents()
    obj = target.obj
    readable = not creating or target.allows(read_permission(ref))
    if not exists and "HTTP_IF_MATCH" in request.environ:
        # As Kinto: the 412 for a missing object carries its list's ETag.
        preconditions.check(request, _list_timestamp(request, ref), exists=False)
    preconditions.check(request, obj["last_modified"] if exists else None, exists, obj, readable)
    data = ref.resource.with_defaults(dict(body.get("data") or {}))
    _body_id(ref, data)
    data["id"] = ref.object_id
    if exists:
        return _save(request, target, data, body.get("permissions"), True, create=False)
    # Created meanwhile by a concurrent request: a conditional PUT must not
    # overwrite it; a plain PUT replaces it, as it would have a moment later.
    conditional = _conditional(request)
    on_exists = "refuse" if conditional else "replace"
    return _save(request, target, data, body.get("permissions"), True, create=True, on_exists=on_exists)


def _conditional(request):
    environ = request.environ
    return "HTTP_IF_MATCH" in environ or "HTTP_IF_NONE_MATCH" in environ


def require_create(request, target):
    """Creating needs ``<resource>:create`` on the parent (on the root for buckets)."""
    parent = target.ref.parent
    if not target.access.allows(parent, target.ref.resource.create_permission):
        raise forbidden(request)


def require_write_or_404(request, target):
    """Write is needed; a reader of the parent learns that the object is missing."""
    if target.allows("write"):
        return
    parent = target.ref.parent
    if target.obj is None and parent is not None and target.parents_exist() and target.allows("read", parent):
        raise not_found(target.ref)
    raise forbidden(request)


def require_changes(body, patch_format):
    """A PATCH must say something (Kinto's 400, its message as it words it)."""
    if patch_format != patching.JSON_PATCH and "data" not in body and "permissions" not in body:
        message = "Provide at least one of data or permissions"
        raise http_error(
            400, ERRORS.INVALID_PARAMETERS, message, [{"location": "body", "name": "data", "description": message}]
        )


def patch_object(request, ref, body, patch_format=patching.JSON):
    require_changes(body, patch_format)
    target = Target(request, ref)
    require_write_or_404(request, target)
    target.ensure_parents()
    obj = target.ensure_object()
    preconditions.check(request, obj["last_modified"], existing=obj)
    stored_acl = target.access.acl(ref.uri)
    data, sent_permissions = patching.patched(ref.resource, obj, stored_acl, body, patch_format)
    _body_id(ref, data)
    unchanged_acl = all(set(p) == stored_acl.get(perm, set()) for perm, p in (sent_permissions or {}).items())
    if data == obj and unchanged_acl and request.authenticated_userid in stored_acl.get("write", ()):
        # Nothing changes: keep the timestamp, as Kinto does.
        outcome = Outcome(obj, acl.shown(stored_acl, request.principals), timestamp=obj["last_modified"])
    else:
        outcome = _save(request, target, data, sent_permissions, False, create=False)
    behavior = request.validated.get("response_behavior", "full")
    if behavior == "full":
        return outcome
    # What the client sent: the fields of its data, or the whole patched
    # object for a JSON Patch (as Kinto compares them).
    sent = data if patch_format == patching.JSON_PATCH else (body.get("data") or {})
    return Outcome(
        response_behavior(behavior, sent, obj, outcome.data), None, outcome.status, outcome.timestamp, outcome.headers
    )


def response_behavior(behavior, sent, old, new):
    """Kinto's ``Response-Behavior`` answer to a PATCH: ``light``, the sent
    fields whose value the PATCH changed; ``diff``, the sent fields whose
    stored value is not the one sent (what the server decided otherwise)."""
    if behavior == "light":
        return {name: new.get(name) for name in sent if old.get(name) != new.get(name)}
    return {name: new.get(name) for name in sent if sent[name] != new.get(name)}


def delete_object(request, ref):
    target = Target(request, ref)
    require_write_or_404(request, target)
    target.ensure_parents()
    obj = target.ensure_object()
    preconditions.check(request, obj["last_modified"], existing=obj)
    registry = request.registry
    tombstone = registry.storage.delete(
        resource_name=ref.resource.name, parent_id=ref.parent_uri, object_id=ref.object_id
    )
    lifecycle.after_delete(registry, ref)
    events.notify(request, "delete", ref, obj, tombstone)
    return Outcome(tombstone, None, timestamp=tombstone["last_modified"])


def create_object(request, parent_ref, resource, body):
    """POST on a plural endpoint: a new object, or the existing one (200)."""
    data = resource.with_defaults(dict(body.get("data") or {}))
    object_id = data.get("id")
    fresh = object_id is None
    if fresh:
        object_id = resource.generate_id()
    elif not is_valid_id(object_id) or len(object_id) > request.registry.settings["max_id_length"]:
        raise invalid_object_id()
    ref = parent_ref.child(resource, object_id) if parent_ref is not None else ObjectRef(BUCKET, (object_id,))
    target = Target(request, ref, fresh=fresh)
    require_create(request, target)
    target.ensure_parents()
    if target.obj is not None:
        # Creating does not grant reading: an existing object is shown only
        # to those who may read it (Kinto answers 403 too).
        target.require(read_permission(ref))
        existing = target.obj
        permissions = acl.shown(target.access.acl(ref.uri), request.principals)
        return Outcome(existing, permissions, status=200, timestamp=existing["last_modified"])
    _check_list_preconditions(request, ref)
    data["id"] = object_id
    return _save(request, target, data, body.get("permissions"), False, create=True)


def _list_timestamp(request, ref):
    return request.registry.storage.resource_timestamp(resource_name=ref.resource.name, parent_id=ref.parent_uri)


def _check_list_preconditions(request, ref):
    if _conditional(request):
        preconditions.check(request, _list_timestamp(request, ref))
